import Foundation
import Migration

/// Finds the bare repositories in storage folders: every folder holding `HEAD`, `objects/`
/// and `refs/` is one (git's own test for a git directory), and its contents are not searched
/// further. Sizes are the bytes of its files on disk. Ids are given in order of storage name,
/// then path, from 1, so the same folders always give the same ids.
public enum StorageScan {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public static func scan(_ storages: [LocalGitLab.Storage]) throws -> [LocalGitLab.Repository] {
        var names = Set<String>()
        var found: [LocalGitLab.Repository] = []
        for s in storages.sorted(by: { $0.name < $1.name }) {
            guard names.insert(s.name).inserted else { throw Failure(description: "--storage \(s.name): given twice") }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: s.directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw Failure(description: "--storage \(s.name)=\(s.directory): no such folder")
            }
            if isRepository(s.directory) {
                throw Failure(description: "--storage \(s.name)=\(s.directory): this is a repository, not a folder of repositories")
            }
            var paths: [String] = []
            try walk(s.directory, relative: "", into: &paths)
            for p in paths.sorted() {
                found.append(LocalGitLab.Repository(id: RepositoryID(Int64(found.count + 1)), storage: s.name, relativePath: p,
                                                    sizeBytes: try bytes(in: "\(s.directory)/\(p)"), kind: kind(of: p)))
            }
        }
        return found
    }

    /// Gitaly's hashed storage keeps snippets under `@snippets/` and group wikis under
    /// `@groups/` (docs.gitlab.com/ee/administration/repository_storage_paths.html); every
    /// other repository is taken for a project's.
    static func kind(of relativePath: String) -> RepositoryKind {
        if relativePath.hasPrefix("@snippets/") { return .snippet }
        if relativePath.hasPrefix("@groups/") { return .wiki }
        return .project
    }

    static func isRepository(_ path: String) -> Bool {
        var d: ObjCBool = false
        let files = FileManager.default
        return files.fileExists(atPath: "\(path)/HEAD") && files.fileExists(atPath: "\(path)/objects", isDirectory: &d) && d.boolValue
            && files.fileExists(atPath: "\(path)/refs", isDirectory: &d) && d.boolValue
    }

    static func walk(_ root: String, relative: String, into paths: inout [String]) throws {
        let here = relative.isEmpty ? root : "\(root)/\(relative)"
        for name in try FileManager.default.contentsOfDirectory(atPath: here).sorted() {
            let child = relative.isEmpty ? name : "\(relative)/\(name)"
            var d: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(root)/\(child)", isDirectory: &d), d.boolValue else { continue }
            // A move's copy in progress is not a repository of the storage yet.
            if name.contains(".move-") { continue }
            if isRepository("\(root)/\(child)") { paths.append(child) } else { try walk(root, relative: child, into: &paths) }
        }
    }

    static func bytes(in path: String) throws -> Int64 {
        var total: Int64 = 0
        guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
        while let f = e.nextObject() as? String {
            let a = try FileManager.default.attributesOfItem(atPath: "\(path)/\(f)")
            if a[.type] as? FileAttributeType == .typeRegular { total += (a[.size] as? NSNumber)?.int64Value ?? 0 }
        }
        return total
    }
}
