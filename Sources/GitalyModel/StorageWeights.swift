import Foundation
import SimKernel

/// GitLab's pick of a storage for a new repository from `repository_storages_weighted`: each
/// storage with weight w > 0 draws rand^(1/w) and the largest wins, so storage i is chosen with
/// probability wᵢ / Σw (gitlab `app/models/application_setting.rb`, `pick_repository_storage`;
/// docs "Repository storage paths"). Moves without a destination use the same pick
/// (gitlab!45338: `repository_storage_movable.rb` defaults `destination_storage_name` to
/// `Repository.pick_storage_shard`), and it does not leave out the move's source.
public enum StorageWeights {
    /// The index of the chosen storage. When every weight is 0 Rails' normalised weights stay 0,
    /// every key rand^(1/0) is 0, and `max_by` keeps the first: the first storage.
    public static func pick(_ weights: [Int], random: inout RandomStream) -> Int {
        precondition(!weights.isEmpty, "GitLab has at least one storage")
        var best = -1.0
        var chosen = 0
        for (i, w) in weights.enumerated() where w > 0 {
            let key = pow(random.nextOpenUnit(), 1 / Double(w))
            if key > best { best = key; chosen = i }
        }
        return chosen
    }
}
