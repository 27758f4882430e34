/// Output captured on a Debian 12 (bookworm) machine, `LC_ALL=C.UTF-8`, apt 2.6.1.
///
/// `host*`: the development host itself (bookworm, -updates and -security, amd64 only).
/// `bookworm*`: the same apt and dpkg pointed (through `APT_CONFIG`) at a scratch root whose
/// dpkg status holds older versions, i386 as a foreign architecture, a package pinned so its
/// candidate comes from bookworm-updates, a held package, a half-configured one, one with
/// only config files left, a local package that conflicts with the new libc6 (so the
/// upgrade removes it), and a flat `file:` repository shaped like a Launchpad PPA whose
/// label contains a comma. Bookworm was `oldstable` when these were captured.
enum DebianFixtures {
    /// `dpkg-query -W -f='${Package}\t${Architecture}\t${Version}\t${Status}\n'` on the
    /// scratch root, plus the line dpkg prints for a purged package when asked for it by name.
    static let bookwormDpkg = """
        brokenpkg\tamd64\t3.1-2\tinstall ok half-configured
        heldpkg\tamd64\t1:9.18.28-1~deb12u2\thold ok installed
        legacy-agent\tamd64\t0.9-1\tinstall ok installed
        libc6\tamd64\t2.36-9+deb12u4\tinstall ok installed
        libc6\ti386\t2.36-9+deb12u4\tinstall ok installed
        libcap2\tamd64\t1:2.66-4\tinstall ok installed
        libcap2\ti386\t1:2.66-4\tinstall ok installed
        libgcrypt20\tamd64\t1.10.1-3\tinstall ok installed
        libssl3\tamd64\t3.0.11-1~deb12u2\tinstall ok installed
        oldconf\tamd64\t1.0-1\tdeinstall ok config-files
        openssh-client\tamd64\t1:9.2p1-2+deb12u5\tinstall ok installed
        sluice-demo-tool\tamd64\t2:1.3.0-1~ppa1\tinstall ok installed
        tzdata\tall\t2024a-0+deb12u1\tinstall ok installed
        ghost\tamd64\t\tunknown ok not-installed
        """

    /// The same query on the host (a few of its 703 lines).
    static let hostDpkg = """
        adduser\tall\t3.134\tinstall ok installed
        apt\tamd64\t2.6.1\tinstall ok installed
        base-files\tamd64\t12.4+deb12u11\tinstall ok installed
        bash\tamd64\t5.2.15-2+b8\tinstall ok installed
        dpkg\tamd64\t1.21.22\tinstall ok installed
        libc6\tamd64\t2.36-9+deb12u14\tinstall ok installed
        libssl3\tamd64\t3.0.19-1~deb12u2\tinstall ok installed
        openssh-client\tamd64\t1:9.2p1-2+deb12u6\tinstall ok installed
        tzdata\tall\t2025b-0+deb12u2\tinstall ok installed
        zlib1g\tamd64\t1:1.2.13.dfsg-1\tinstall ok installed
        """

    /// `apt-get -s -q -o APT::Get::Show-User-Simulation-Note=false dist-upgrade` on the
    /// scratch root (the package lists and most of the 124 new dependencies cut out).
    static let bookwormSimulation = """
        Reading package lists...
        Building dependency tree...
        Calculating upgrade...
        The following packages will be REMOVED:
          legacy-agent
        The following packages will be upgraded:
          libc6 libc6:i386 libcap2 libcap2:i386 libgcrypt20 libssl3 openssh-client
          sluice-demo-tool tzdata
        9 upgraded, 124 newly installed, 1 to remove and 0 not upgraded.
        1 not fully installed or removed.
        Inst gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64])
        Inst gcc-12-base:i386 (12.2.0-14+deb12u1 Debian:12.15/oldstable [i386])
        Conf gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64])
        Remv legacy-agent [0.9-1]
        Inst libc6 [2.36-9+deb12u4] (2.36-9+deb12u14 Debian:12.15/oldstable [amd64]) [libc6:amd64 on libc6:i386] [libc6:i386 on libc6:amd64] [libc6:i386 ]
        Inst libc6:i386 [2.36-9+deb12u4] (2.36-9+deb12u14 Debian:12.15/oldstable [i386])
        Conf libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])
        Inst libcap2 [1:2.66-4] (1:2.66-4+deb12u3+b1 Debian:12.15/oldstable [amd64]) [libcap2:amd64 on libcap2:i386] [libcap2:i386 on libcap2:amd64] [libcap2:i386 ]
        Inst libcap2:i386 [1:2.66-4] (1:2.66-4+deb12u3+b1 Debian:12.15/oldstable [i386])
        Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
        Conf libgcrypt20 (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
        Conf libcap2 (1:2.66-4+deb12u3+b1 Debian:12.15/oldstable [amd64])
        Inst zlib1g (1:1.2.13.dfsg-1 Debian:12.15/oldstable [amd64])
        Conf zlib1g (1:1.2.13.dfsg-1 Debian:12.15/oldstable [amd64])
        Inst tzdata [2024a-0+deb12u1] (2026f-0+deb12u1 Debian-Security:12/oldstable-security [all])
        Inst libssl3 [3.0.11-1~deb12u2] (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64])
        Inst openssh-client [1:9.2p1-2+deb12u5] (1:9.2p1-2+deb12u7 Debian:12-updates/oldstable-updates [amd64])
        Inst sluice-demo-tool [2:1.3.0-1~ppa1] (2:1.4.0-1~ppa2 Sluice Demo Tools, nightly:22.04/jammy [amd64])
        Conf gcc-12-base:i386 (12.2.0-14+deb12u1 Debian:12.15/oldstable [i386])
        Conf libc6:i386 (2.36-9+deb12u14 Debian:12.15/oldstable [i386])
        Conf libcap2:i386 (1:2.66-4+deb12u3+b1 Debian:12.15/oldstable [i386])
        Conf tzdata (2026f-0+deb12u1 Debian-Security:12/oldstable-security [all])
        Conf libssl3 (3.0.22-1~deb12u2 Debian-Security:12/oldstable-security [amd64])
        Conf openssh-client (1:9.2p1-2+deb12u7 Debian:12-updates/oldstable-updates [amd64])
        Conf sluice-demo-tool (2:1.4.0-1~ppa2 Sluice Demo Tools, nightly:22.04/jammy [amd64])
        Conf brokenpkg (3.1-2  [amd64])
        """

    /// `Inst` and `Conf` lines from the host's own simulation: trailing `[]` and apt's notes
    /// about packages broken in between (`[libpam-modules:amd64 on libpam-modules-bin:amd64]`).
    static let hostSimulation = """
        Inst libgcrypt20-dev [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64]) []
        Inst liblzma5 [5.4.1-1] (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64])
        Conf liblzma5 (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64])
        Inst systemd-timesyncd [252.38-1~deb12u1] (252.39-1~deb12u2 Debian:12.15/oldstable [amd64]) []
        Inst libpam-modules-bin [1.5.2-6+deb12u1] (1.5.2-6+deb12u3 Debian-Security:12/oldstable-security [amd64]) [libpam-modules:amd64 on libpam-modules-bin:amd64] [libpam-modules:amd64 ]
        Conf libpam-modules-bin (1.5.2-6+deb12u3 Debian-Security:12/oldstable-security [amd64]) [libpam-modules:amd64 ]
        Inst libpam-modules [1.5.2-6+deb12u1] (1.5.2-6+deb12u3 Debian-Security:12/oldstable-security [amd64]) []
        Conf libpam-modules (1.5.2-6+deb12u3 Debian-Security:12/oldstable-security [amd64]) []
        Inst dpkg [1.21.22] (1.21.23 Debian:12.15/oldstable [amd64])
        Conf dpkg (1.21.23 Debian:12.15/oldstable [amd64])
        Inst libperl5.36 [5.36.0-7+deb12u2] (5.36.0-7+deb12u4 Debian-Security:12/oldstable-security [amd64]) [perl:amd64 ]
        Inst openssh-client [1:9.2p1-2+deb12u6] (1:9.2p1-2+deb12u10 Debian:12.15/oldstable [amd64])
        Conf libgcrypt20-dev (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
        Conf systemd-timesyncd (252.39-1~deb12u2 Debian:12.15/oldstable [amd64])
        Conf libperl5.36 (5.36.0-7+deb12u4 Debian-Security:12/oldstable-security [amd64])
        Conf openssh-client (1:9.2p1-2+deb12u10 Debian:12.15/oldstable [amd64])
        """

    /// `apt-cache policy` on the scratch root.
    static let bookwormPolicy = """
        Package files:
         100 /tmp/aptroot/var/lib/dpkg/status
             release a=now
         500 file:/tmp/aptroot/repo/ppa ./ Packages
             release v=22.04,o=LP-PPA-sluice-demo,a=jammy,n=jammy,l=Sluice Demo Tools, nightly,c=
         500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
             release v=12,o=Debian,a=oldstable-security,n=bookworm-security,l=Debian-Security,c=main,b=amd64
             origin deb.debian.org
         500 http://deb.debian.org/debian bookworm-updates/main i386 Packages
             release v=12-updates,o=Debian,a=oldstable-updates,n=bookworm-updates,l=Debian,c=main,b=i386
             origin deb.debian.org
         500 http://deb.debian.org/debian bookworm-updates/main amd64 Packages
             release v=12-updates,o=Debian,a=oldstable-updates,n=bookworm-updates,l=Debian,c=main,b=amd64
             origin deb.debian.org
         500 http://deb.debian.org/debian bookworm/main i386 Packages
             release v=12.15,o=Debian,a=oldstable,n=bookworm,l=Debian,c=main,b=i386
             origin deb.debian.org
         500 http://deb.debian.org/debian bookworm/main amd64 Packages
             release v=12.15,o=Debian,a=oldstable,n=bookworm,l=Debian,c=main,b=amd64
             origin deb.debian.org
        Pinned packages:
             openssh-client -> 1:9.2p1-2+deb12u10 with priority 100
             openssh-client -> 1:9.2p1-2+deb12u9 with priority 100
        """

    /// `apt-cache policy` on the host.
    static let hostPolicy = """
        Package files:
         100 /var/lib/dpkg/status
             release a=now
         500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
             release v=12,o=Debian,a=oldstable-security,n=bookworm-security,l=Debian-Security,c=main,b=amd64
             origin deb.debian.org
         500 http://deb.debian.org/debian bookworm-updates/main amd64 Packages
             release v=12-updates,o=Debian,a=oldstable-updates,n=bookworm-updates,l=Debian,c=main,b=amd64
             origin deb.debian.org
         500 http://deb.debian.org/debian bookworm/main amd64 Packages
             release v=12.15,o=Debian,a=oldstable,n=bookworm,l=Debian,c=main,b=amd64
             origin deb.debian.org
        Pinned packages:
        """

    /// `apt-cache policy -- gcc-12-base gcc-12-base:i386 libc6 libc6:i386 libcap2 libcap2:i386
    /// libgcrypt20 zlib1g tzdata libssl3 openssh-client sluice-demo-tool` on the scratch root.
    static let bookwormPackagePolicy = """
        gcc-12-base:
          Installed: (none)
          Candidate: 12.2.0-14+deb12u1
          Version table:
             12.2.0-14+deb12u1 500
                500 http://deb.debian.org/debian bookworm/main amd64 Packages
        gcc-12-base:i386:
          Installed: (none)
          Candidate: 12.2.0-14+deb12u1
          Version table:
             12.2.0-14+deb12u1 500
                500 http://deb.debian.org/debian bookworm/main i386 Packages
        libc6:
          Installed: 2.36-9+deb12u4
          Candidate: 2.36-9+deb12u14
          Version table:
             2.36-9+deb12u14 500
                500 http://deb.debian.org/debian bookworm/main amd64 Packages
             2.36-9+deb12u7 500
                500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
         *** 2.36-9+deb12u4 100
                100 /tmp/aptroot/var/lib/dpkg/status
        libc6:i386:
          Installed: 2.36-9+deb12u4
          Candidate: 2.36-9+deb12u14
          Version table:
             2.36-9+deb12u14 500
                500 http://deb.debian.org/debian bookworm/main i386 Packages
         *** 2.36-9+deb12u4 100
                100 /tmp/aptroot/var/lib/dpkg/status
        libcap2:
          Installed: 1:2.66-4
          Candidate: 1:2.66-4+deb12u3+b1
          Version table:
             1:2.66-4+deb12u3+b1 500
                500 http://deb.debian.org/debian bookworm/main amd64 Packages
         *** 1:2.66-4 100
                100 /tmp/aptroot/var/lib/dpkg/status
        libcap2:i386:
          Installed: 1:2.66-4
          Candidate: 1:2.66-4+deb12u3+b1
          Version table:
             1:2.66-4+deb12u3+b1 500
                500 http://deb.debian.org/debian bookworm/main i386 Packages
         *** 1:2.66-4 100
                100 /tmp/aptroot/var/lib/dpkg/status
        libgcrypt20:
          Installed: 1.10.1-3
          Candidate: 1.10.1-3+deb12u1
          Version table:
             1.10.1-3+deb12u1 500
                500 http://deb.debian.org/debian bookworm/main amd64 Packages
                500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
         *** 1.10.1-3 100
                100 /tmp/aptroot/var/lib/dpkg/status
        zlib1g:
          Installed: (none)
          Candidate: 1:1.2.13.dfsg-1
          Version table:
             1:1.2.13.dfsg-1 500
                500 http://deb.debian.org/debian bookworm/main amd64 Packages
        tzdata:
          Installed: 2024a-0+deb12u1
          Candidate: 2026f-0+deb12u1
          Version table:
             2026f-0+deb12u1 500
                500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
             2026b-0+deb12u1 500
                500 http://deb.debian.org/debian bookworm/main amd64 Packages
                500 http://deb.debian.org/debian bookworm/main i386 Packages
             2025b-0+deb12u1 500
                500 http://deb.debian.org/debian bookworm-updates/main amd64 Packages
                500 http://deb.debian.org/debian bookworm-updates/main i386 Packages
         *** 2024a-0+deb12u1 100
                100 /tmp/aptroot/var/lib/dpkg/status
        libssl3:
          Installed: 3.0.11-1~deb12u2
          Candidate: 3.0.22-1~deb12u2
          Version table:
             3.0.22-1~deb12u2 500
                500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
             3.0.20-1~deb12u2 500
                500 http://deb.debian.org/debian bookworm/main amd64 Packages
             3.0.17-1~deb12u2 500
                500 http://deb.debian.org/debian bookworm-updates/main amd64 Packages
         *** 3.0.11-1~deb12u2 100
                100 /tmp/aptroot/var/lib/dpkg/status
        openssh-client:
          Installed: 1:9.2p1-2+deb12u5
          Candidate: 1:9.2p1-2+deb12u7
          Version table:
             1:9.2p1-2+deb12u10 100
                500 http://deb.debian.org/debian bookworm/main amd64 Packages
             1:9.2p1-2+deb12u9 100
                500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
             1:9.2p1-2+deb12u7 500
                500 http://deb.debian.org/debian bookworm-updates/main amd64 Packages
         *** 1:9.2p1-2+deb12u5 100
                100 /tmp/aptroot/var/lib/dpkg/status
        sluice-demo-tool:
          Installed: 2:1.3.0-1~ppa1
          Candidate: 2:1.4.0-1~ppa2
          Version table:
             2:1.4.0-1~ppa2 500
                500 file:/tmp/aptroot/repo/ppa ./ Packages
         *** 2:1.3.0-1~ppa1 100
                100 /tmp/aptroot/var/lib/dpkg/status
        """
}
