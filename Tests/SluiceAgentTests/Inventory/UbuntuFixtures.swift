/// Ubuntu output, written line for line in the format apt prints (the same apt code as the
/// Debian captures: `pkgSimulate::Describe` and `VerIterator::RelStr()` for `Inst` lines,
/// `apt-cache policy`'s `" %4i %s"` source rows and `v=,o=,a=,n=,l=,c=,b=` release rows).
/// What differs from Debian is the data: Ubuntu names the pocket in the archive
/// (`a=jammy-security`) while the codename stays `jammy`, serves -security from
/// security.ubuntu.com, marks phased updates in the version table, and PPAs use
/// `o=LP-PPA-<owner>-<name>` with free-text labels.
enum UbuntuFixtures {
    /// Ubuntu 22.04: openssl and libssl3 in both jammy-updates and jammy-security, a
    /// non-security update (snapd), a new kernel pulled in as a dependency, bind9 with an
    /// epoch, and a new install from the deadsnakes PPA.
    static let jammySimulation = """
        Reading package lists...
        Building dependency tree...
        Reading state information...
        Calculating upgrade...
        The following NEW packages will be installed:
          linux-image-5.15.0-91-generic python3.12
        The following packages will be upgraded:
          bind9 bind9-libs libssl3 linux-generic openssl snapd
        6 upgraded, 2 newly installed, 0 to remove and 0 not upgraded.
        Inst libssl3 [3.0.2-0ubuntu1.10] (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
        Conf libssl3 (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
        Inst openssl [3.0.2-0ubuntu1.10] (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
        Inst bind9-libs [1:9.18.18-0ubuntu0.22.04.1] (1:9.18.28-0ubuntu0.22.04.1 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64]) []
        Inst bind9 [1:9.18.18-0ubuntu0.22.04.1] (1:9.18.28-0ubuntu0.22.04.1 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
        Inst linux-image-5.15.0-91-generic (5.15.0-91.101 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
        Inst linux-generic [5.15.0.89.86] (5.15.0.91.88 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
        Inst snapd [2.58+22.04.1] (2.61.3+22.04 Ubuntu:22.04/jammy-updates [amd64])
        Inst python3.12 (3.12.3-1+jammy1 New Python Versions:22.04/jammy [amd64])
        Conf openssl (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
        Conf python3.12 (3.12.3-1+jammy1 New Python Versions:22.04/jammy [amd64])
        """

    static let jammyPolicy = """
        Package files:
         100 /var/lib/dpkg/status
             release a=now
         500 https://ppa.launchpadcontent.net/deadsnakes/ppa/ubuntu jammy/main amd64 Packages
             release v=22.04,o=LP-PPA-deadsnakes,a=jammy,n=jammy,l=New Python Versions,c=main,b=amd64
             origin ppa.launchpadcontent.net
         500 http://security.ubuntu.com/ubuntu jammy-security/main amd64 Packages
             release v=22.04,o=Ubuntu,a=jammy-security,n=jammy,l=Ubuntu,c=main,b=amd64
             origin security.ubuntu.com
         100 http://archive.ubuntu.com/ubuntu jammy-backports/universe amd64 Packages
             release v=22.04,o=Ubuntu,a=jammy-backports,n=jammy,l=Ubuntu,c=universe,b=amd64
             origin archive.ubuntu.com
         500 http://archive.ubuntu.com/ubuntu jammy-updates/main amd64 Packages
             release v=22.04,o=Ubuntu,a=jammy-updates,n=jammy,l=Ubuntu,c=main,b=amd64
             origin archive.ubuntu.com
         500 http://archive.ubuntu.com/ubuntu jammy/main amd64 Packages
             release v=22.04,o=Ubuntu,a=jammy,n=jammy,l=Ubuntu,c=main,b=amd64
             origin archive.ubuntu.com
        Pinned packages:
        """

    static let jammyPackagePolicy = """
        libssl3:
          Installed: 3.0.2-0ubuntu1.10
          Candidate: 3.0.2-0ubuntu1.12
          Version table:
             3.0.2-0ubuntu1.12 500
                500 http://archive.ubuntu.com/ubuntu jammy-updates/main amd64 Packages
                500 http://security.ubuntu.com/ubuntu jammy-security/main amd64 Packages
         *** 3.0.2-0ubuntu1.10 100
                100 /var/lib/dpkg/status
             3.0.2-0ubuntu1 500
                500 http://archive.ubuntu.com/ubuntu jammy/main amd64 Packages
        openssl:
          Installed: 3.0.2-0ubuntu1.10
          Candidate: 3.0.2-0ubuntu1.12
          Version table:
             3.0.2-0ubuntu1.12 500
                500 http://archive.ubuntu.com/ubuntu jammy-updates/main amd64 Packages
                500 http://security.ubuntu.com/ubuntu jammy-security/main amd64 Packages
         *** 3.0.2-0ubuntu1.10 100
                100 /var/lib/dpkg/status
        bind9-libs:
          Installed: 1:9.18.18-0ubuntu0.22.04.1
          Candidate: 1:9.18.28-0ubuntu0.22.04.1
          Version table:
             1:9.18.28-0ubuntu0.22.04.1 500
                500 http://archive.ubuntu.com/ubuntu jammy-updates/main amd64 Packages
                500 http://security.ubuntu.com/ubuntu jammy-security/main amd64 Packages
         *** 1:9.18.18-0ubuntu0.22.04.1 100
                100 /var/lib/dpkg/status
        snapd:
          Installed: 2.58+22.04.1
          Candidate: 2.61.3+22.04
          Version table:
             2.61.3+22.04 500 (phased 20%)
                500 http://archive.ubuntu.com/ubuntu jammy-updates/main amd64 Packages
         *** 2.58+22.04.1 100
                100 /var/lib/dpkg/status
             2.55.3+22.04 500
                500 http://archive.ubuntu.com/ubuntu jammy/main amd64 Packages
        python3.12:
          Installed: (none)
          Candidate: 3.12.3-1+jammy1
          Version table:
             3.12.3-1+jammy1 500
                500 https://ppa.launchpadcontent.net/deadsnakes/ppa/ubuntu jammy/main amd64 Packages
        """

    /// Ubuntu 24.04 with i386 enabled: libc6 for both architectures and tzdata (`[all]`) in
    /// both noble-updates and noble-security, curl in noble-updates only, a new kernel.
    static let nobleSimulation = """
        Inst libc6 [2.39-0ubuntu8.3] (2.39-0ubuntu8.4 Ubuntu:24.04/noble-updates, Ubuntu:24.04/noble-security [amd64]) [libc6:amd64 on libc6:i386] [libc6:i386 on libc6:amd64] [libc6:i386 ]
        Inst libc6:i386 [2.39-0ubuntu8.3] (2.39-0ubuntu8.4 Ubuntu:24.04/noble-updates, Ubuntu:24.04/noble-security [i386])
        Inst tzdata [2024a-3ubuntu1.1] (2025b-0ubuntu0.24.04 Ubuntu:24.04/noble-updates, Ubuntu:24.04/noble-security [all])
        Inst curl [8.5.0-2ubuntu10.6] (8.5.0-2ubuntu10.7 Ubuntu:24.04/noble-updates [amd64])
        Inst linux-image-6.8.0-63-generic (6.8.0-63.66 Ubuntu:24.04/noble-updates, Ubuntu:24.04/noble-security [amd64])
        Conf libc6 (2.39-0ubuntu8.4 Ubuntu:24.04/noble-updates, Ubuntu:24.04/noble-security [amd64])
        """

    static let noblePolicy = """
        Package files:
         100 /var/lib/dpkg/status
             release a=now
         500 http://security.ubuntu.com/ubuntu noble-security/main i386 Packages
             release v=24.04,o=Ubuntu,a=noble-security,n=noble,l=Ubuntu,c=main,b=i386
             origin security.ubuntu.com
         500 http://security.ubuntu.com/ubuntu noble-security/main amd64 Packages
             release v=24.04,o=Ubuntu,a=noble-security,n=noble,l=Ubuntu,c=main,b=amd64
             origin security.ubuntu.com
         500 http://archive.ubuntu.com/ubuntu noble-updates/main i386 Packages
             release v=24.04,o=Ubuntu,a=noble-updates,n=noble,l=Ubuntu,c=main,b=i386
             origin archive.ubuntu.com
         500 http://archive.ubuntu.com/ubuntu noble-updates/main amd64 Packages
             release v=24.04,o=Ubuntu,a=noble-updates,n=noble,l=Ubuntu,c=main,b=amd64
             origin archive.ubuntu.com
         500 http://archive.ubuntu.com/ubuntu noble/main amd64 Packages
             release v=24.04,o=Ubuntu,a=noble,n=noble,l=Ubuntu,c=main,b=amd64
             origin archive.ubuntu.com
        Pinned packages:
        """

    static let noblePackagePolicy = """
        libc6:
          Installed: 2.39-0ubuntu8.3
          Candidate: 2.39-0ubuntu8.4
          Version table:
             2.39-0ubuntu8.4 500
                500 http://archive.ubuntu.com/ubuntu noble-updates/main amd64 Packages
                500 http://security.ubuntu.com/ubuntu noble-security/main amd64 Packages
         *** 2.39-0ubuntu8.3 100
                100 /var/lib/dpkg/status
        libc6:i386:
          Installed: 2.39-0ubuntu8.3
          Candidate: 2.39-0ubuntu8.4
          Version table:
             2.39-0ubuntu8.4 500
                500 http://archive.ubuntu.com/ubuntu noble-updates/main i386 Packages
                500 http://security.ubuntu.com/ubuntu noble-security/main i386 Packages
         *** 2.39-0ubuntu8.3 100
                100 /var/lib/dpkg/status
        tzdata:
          Installed: 2024a-3ubuntu1.1
          Candidate: 2025b-0ubuntu0.24.04
          Version table:
             2025b-0ubuntu0.24.04 500
                500 http://archive.ubuntu.com/ubuntu noble-updates/main amd64 Packages
                500 http://archive.ubuntu.com/ubuntu noble-updates/main i386 Packages
                500 http://security.ubuntu.com/ubuntu noble-security/main amd64 Packages
                500 http://security.ubuntu.com/ubuntu noble-security/main i386 Packages
         *** 2024a-3ubuntu1.1 100
                100 /var/lib/dpkg/status
        curl:
          Installed: 8.5.0-2ubuntu10.6
          Candidate: 8.5.0-2ubuntu10.7
          Version table:
             8.5.0-2ubuntu10.7 500
                500 http://archive.ubuntu.com/ubuntu noble-updates/main amd64 Packages
         *** 8.5.0-2ubuntu10.6 100
                100 /var/lib/dpkg/status
        linux-image-6.8.0-63-generic:
          Installed: (none)
          Candidate: 6.8.0-63.66
          Version table:
             6.8.0-63.66 500
                500 http://archive.ubuntu.com/ubuntu noble-updates/main amd64 Packages
                500 http://security.ubuntu.com/ubuntu noble-security/main amd64 Packages
        """

    static let jammyOSRelease = """
        PRETTY_NAME="Ubuntu 22.04.4 LTS"
        NAME="Ubuntu"
        VERSION_ID="22.04"
        VERSION="22.04.4 LTS (Jammy Jellyfish)"
        VERSION_CODENAME=jammy
        ID=ubuntu
        ID_LIKE=debian
        HOME_URL="https://www.ubuntu.com/"
        UBUNTU_CODENAME=jammy
        """
}
