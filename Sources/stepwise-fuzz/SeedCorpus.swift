import Foundation

/// Where seeds come from: files of the repository and the CEL conformance data.
enum SeedCorpus {
    /// The contents of every `.yaml`/`.yml` file directly in `folders`, sorted by path; missing
    /// folders contribute nothing.
    static func files(in folders: [String]) -> [(path: String, bytes: [UInt8])] {
        folders.flatMap { folder -> [(path: String, bytes: [UInt8])] in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().compactMap { name in
                let path = (folder as NSString).appendingPathComponent(name)
                return FileManager.default.contents(atPath: path).map { (path, [UInt8]($0)) }
            }
        }
    }

    /// The text between `${{` and `}}` of every template in `texts`.
    static func templateExpressions(in texts: [String]) -> [String] {
        texts.flatMap { text in
            text.components(separatedBy: "${{").dropFirst().compactMap { rest in
                rest.range(of: "}}").map { String(rest[..<$0.lowerBound]).trimmingCharacters(in: .whitespaces) }
            }
        }
    }

    /// Every `"expr"` string of the JSON conformance files in `folder`, in file order.
    static func conformanceExpressions(in folder: String) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.flatMap { name -> [String] in
            guard let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(name)),
                  let json = try? JSONSerialization.jsonObject(with: data) else { return [] }
            return expressions(in: json)
        }
    }

    private static func expressions(in json: Any) -> [String] {
        if let object = json as? [String: Any] {
            let own = (object["expr"] as? String).map { [$0] } ?? []
            return own + object.keys.sorted().filter { $0 != "expr" }.flatMap { key in object[key].map(expressions) ?? [] }
        }
        if let array = json as? [Any] { return array.flatMap(expressions) }
        return []
    }
}
