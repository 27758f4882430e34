#ifndef CSLUICE_PROCESS_H
#define CSLUICE_PROCESS_H

#include <stddef.h>
#include <stdint.h>

/// One page-aligned range of a loaded object that is never written: the code and read-only
/// data of a PT_LOAD segment without PF_W, outside PT_GNU_RELRO, of an object without text
/// relocations (see sluice_clean_segments).
typedef struct {
    uintptr_t start;
    uintptr_t end;
} sluice_range;

/// Lists, into `ranges` (at most `capacity`), the clean ranges of every object the dynamic
/// linker has loaded (the program and its shared libraries; not the vDSO). Returns how many
/// there are (which may exceed `capacity`).
size_t sluice_clean_segments(sluice_range *ranges, size_t capacity);

/// madvise(MADV_DONTNEED) over every such range, from inside dl_iterate_phdr (which holds
/// the loader's lock, so no object is unloaded meanwhile), then malloc_trim(0). Pages that
/// were never written are re-read from the page cache when used again; nothing is lost.
/// Sets the number of ranges advised and their total size in bytes.
void sluice_release_clean_segments(size_t *ranges, size_t *bytes);

#endif
