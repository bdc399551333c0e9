import CLIKit
import Foundation

exit(CommandLineRunner.run(RecordOnceCommand.root))
