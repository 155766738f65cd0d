import Foundation
import SimKernel

/// GitLab's pick of a storage for a new repository from `repository_storages_weighted`: each
/// storage with weight w > 0 draws rand^(1/w) and the largest wins, so storage i is chosen with
/// probability wᵢ / Σw (gitlab `app/models/application_setting.rb`, `pick_repository_storage`;
/// docs "Repository storage paths"). Moves without a destination use the same pick
/// (gitlab!45338).
public enum StorageWeights {
    /// The index of the chosen storage, or nil when every weight is 0. `exclude` is skipped
    /// (a move's source).
    public static func pick(_ weights: [Int], excluding exclude: Int? = nil, random: inout RandomStream) -> Int? {
        var best = -1.0
        var chosen: Int?
        for (i, w) in weights.enumerated() where w > 0 && i != exclude {
            let key = pow(random.nextOpenUnit(), 1 / Double(w))
            if key > best { best = key; chosen = i }
        }
        return chosen
    }
}
