#define _GNU_SOURCE
#include "CSluiceProcess.h"

#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
    sluice_range *ranges;
    size_t capacity;
    size_t count;
    size_t bytes;
    int advise;
} walk;

/// Text relocations mean the loader wrote into code pages: such an object is left alone.
static int has_text_relocations(const struct dl_phdr_info *info) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_DYNAMIC) continue;
        for (const ElfW(Dyn) *dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr); dyn->d_tag != DT_NULL; dyn++) {
            if (dyn->d_tag == DT_TEXTREL) return 1;
            if (dyn->d_tag == DT_FLAGS && (dyn->d_un.d_val & DF_TEXTREL)) return 1;
        }
    }
    return 0;
}

static int visit(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    walk *w = data;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    uintptr_t relro_start = 0, relro_end = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && vdso != 0 && vdso >= start && vdso < start + ph->p_memsz) return 0;
        if (ph->p_type == PT_GNU_RELRO) {
            relro_start = start;
            relro_end = start + ph->p_memsz;
        }
    }
    if (has_text_relocations(info)) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) || ph->p_filesz == 0) continue;
        // Whole pages inside the segment's file-backed part only.
        uintptr_t start = (info->dlpi_addr + ph->p_vaddr + page - 1) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_filesz) & ~(page - 1);
        if (end <= start) continue;
        if (relro_end > relro_start && start < relro_end && relro_start < end) continue;
        if (w->advise) {
            if (madvise((void *)start, end - start, MADV_DONTNEED) != 0) continue;
        } else if (w->count < w->capacity) {
            w->ranges[w->count].start = start;
            w->ranges[w->count].end = end;
        }
        w->count++;
        w->bytes += end - start;
    }
    return 0;
}

size_t sluice_clean_segments(sluice_range *ranges, size_t capacity) {
    walk w = {ranges, capacity, 0, 0, 0};
    dl_iterate_phdr(visit, &w);
    return w.count;
}

void sluice_release_clean_segments(size_t *ranges, size_t *bytes) {
    walk w = {NULL, 0, 0, 0, 1};
    dl_iterate_phdr(visit, &w);
    malloc_trim(0);
    *ranges = w.count;
    *bytes = w.bytes;
}
