import Yams

/// YAML text to Swift values (`Yams.load`) with Yams' own constructors, except that a number written with colons
/// stays text.
///
/// YAML 1.1 reads `1:30` as the base-60 integer 90 and `1:30.5` as 90.5; Kubernetes' YAML reader (go-yaml) keeps
/// both as text (so a `8080:80` port mapping is a string there too), and Yams' base-60 integer arithmetic traps
/// on overflow (`999999999999999999:59`), which would end the process reading the file.
public enum YAMLValues {
    /// The first document's value.
    public static func load(_ yaml: String) throws -> Any? {
        try Yams.load(yaml: yaml, .default, constructor)
    }

    /// Whether a scalar YAML resolves as a number is text to us: it is written with colons.
    public static func isBaseSixty(_ text: String) -> Bool {
        text.utf8.contains(UInt8(ascii: ":"))
    }

    static var constructor: Constructor {
        var scalars = Constructor.defaultScalarMap
        for tag in [Tag.Name.int, Tag.Name.float] {
            let construct = scalars[tag]
            scalars[tag] = { scalar in isBaseSixty(scalar.string) ? scalar.string : construct?(scalar) }
        }
        return Constructor(scalars)
    }
}
