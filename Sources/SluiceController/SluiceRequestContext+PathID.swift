import Hummingbird
import SluiceAPI

extension SluiceRequestContext {
    /// The numeric path parameter `name`, read strictly (`PathID`): anything but plain digits
    /// of a positive id is a 400 naming `what`.
    func pathID(_ name: String, naming what: String) throws -> Int64 {
        try PathID.parse(parameters.get(name) ?? "", naming: what)
    }
}
