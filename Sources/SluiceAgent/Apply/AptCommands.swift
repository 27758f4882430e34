import SluiceCore

/// The apt and dpkg command lines of an apply, in one place so that the simulation and the
/// install take exactly the same options. Package arguments come after `--` and are
/// ``PackagePin``s or paths the agent built, never text from elsewhere.
struct AptCommands: Sendable {
    /// How long apt waits for another apt or dpkg to release its locks.
    let lockTimeoutSeconds: Int

    /// Non-interactive, keep existing conffiles, and no needrestart prompts or restarts.
    static let environment = [
        "DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_SUSPEND": "1", "NEEDRESTART_MODE": "l",
        "APT_LISTCHANGES_FRONTEND": "none", "UCF_FORCE_CONFFOLD": "1",
    ]

    private func options(noRemove: Bool) -> [String] {
        ["-q", "-y", "--no-install-recommends",
         "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
         "-o", "DPkg::Lock::Timeout=\(lockTimeoutSeconds)"] + (noRemove ? ["--no-remove"] : [])
    }

    /// `apt-get -s install` of the exact set; removals are shown (and refused by the caller).
    func simulate(_ pins: [PackagePin]) -> [String] { simulate(pins.map(\.description), downgrades: false) }

    /// `apt-get -s install` of `name=version` pins and saved .deb paths; `downgrades` for a revert.
    func simulate(_ arguments: [String], downgrades: Bool) -> [String] {
        ["apt-get", "-s", "-o", "APT::Get::Show-User-Simulation-Note=false"] + options(noRemove: false)
            + (downgrades ? ["--allow-downgrades"] : []) + ["install", "--"] + arguments
    }

    /// The real install of the exact set, no removal unless allowed; a downgrade only for a
    /// revert (`downgrades`), whose arguments may be saved .deb paths as well as pins.
    func install(_ arguments: [String], allowRemovals: Bool, downgrades: Bool) -> [String] {
        ["apt-get"] + options(noRemove: !allowRemovals) + (downgrades ? ["--allow-downgrades"] : []) + ["install", "--"] + arguments
    }

    /// Rollback: reinstall the saved .debs, downgrading (the only place downgrades are allowed).
    func reinstall(_ paths: [String]) -> [String] {
        ["apt-get"] + options(noRemove: true) + ["--allow-downgrades", "install", "--"] + paths
    }

    /// Rollback's fallback when apt refuses (a broken dependency state): dpkg directly.
    static func dpkgInstall(_ paths: [String]) -> [String] {
        ["dpkg", "--force-confdef", "--force-confold", "-i", "--"] + paths
    }

    /// Finishes whatever dpkg left unconfigured.
    static let configurePending = ["dpkg", "--force-confdef", "--force-confold", "--configure", "-a"]

    /// Lists packages dpkg left half installed or unconfigured; silent when all is well.
    static let audit = ["dpkg", "--audit"]

    /// `apt-cache policy` for the names: installed, candidate and every available version.
    static func policy(_ names: [PackageName]) -> [String] {
        ["apt-cache", "policy", "--"] + names.map(\.rawValue)
    }

    /// `dpkg-query -W` for the names, in ``DpkgQueryParser``'s format.
    static func query(_ names: [PackageName]) -> [String] {
        ["dpkg-query"] + DpkgQueryParser.arguments + ["--"] + names.map(\.rawValue)
    }
}
