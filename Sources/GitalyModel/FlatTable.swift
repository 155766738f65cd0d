/// A rows × columns table in one flat array (row-major), for the world's per-pair state
/// (Praefect × node, node × RPC class, Praefect × virtual storage): one allocation, no nested
/// arrays to copy, and the index arithmetic written once.
struct FlatTable<Element> {
    private(set) var storage: [Element]
    let rows: Int
    let columns: Int

    init(rows: Int, columns: Int, repeating value: Element) {
        precondition(rows >= 0 && columns >= 0)
        self.rows = rows
        self.columns = columns
        storage = Array(repeating: value, count: rows * columns)
    }

    /// A table over `elements`, which must hold exactly rows × columns values in row order.
    init(rows: Int, columns: Int, elements: [Element]) {
        precondition(elements.count == rows * columns, "\(elements.count) elements for a \(rows)×\(columns) table")
        self.rows = rows
        self.columns = columns
        storage = elements
    }

    @inline(__always)
    subscript(row: Int, column: Int) -> Element {
        get {
            assert(row >= 0 && row < rows && column >= 0 && column < columns)
            return storage[row &* columns &+ column]
        }
        set {
            assert(row >= 0 && row < rows && column >= 0 && column < columns)
            storage[row &* columns &+ column] = newValue
        }
    }
}

extension FlatTable: Sendable where Element: Sendable {}
extension FlatTable: Equatable where Element: Equatable {}
