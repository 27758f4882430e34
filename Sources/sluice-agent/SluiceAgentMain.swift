import ArgumentParser

/// `sluice-agent enroll …` and `sluice-agent handback …` are commands of their own; anything else runs the agent. (As a
/// subcommand of the agent's command, enroll's --controller, --config, --label… would be
/// taken by the agent's options of the same names, which the parent parses first.)
@main
enum SluiceAgentMain {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "enroll" {
            await EnrollCommand.main(Array(arguments.dropFirst()))
        } else if arguments.first == "handback" {
            await HandbackCommand.main(Array(arguments.dropFirst()))
        } else {
            await SluiceAgentCommand.main(arguments)
        }
    }
}
