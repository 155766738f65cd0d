/// A binary min-heap: `pop` gives the least element by `<`. Equal elements come out in no set
/// order, so a caller that needs the same order on every machine makes `<` total (a sequence
/// number or an index as the last key). The simulator's secondary queues use it: copies of
/// replayed calls waiting their turn, the bandwidth pool's saturation levels.
public struct MinHeap<Element: Comparable> {
    @usableFromInline var elements: [Element] = []

    public init() {}

    @inlinable public var isEmpty: Bool { elements.isEmpty }
    @inlinable public var count: Int { elements.count }
    /// The least element, left in place.
    @inlinable public var min: Element? { elements.first }

    @inlinable public mutating func removeAll(keepingCapacity: Bool = false) {
        elements.removeAll(keepingCapacity: keepingCapacity)
    }

    @inlinable public mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    @inlinable public mutating func pop() -> Element? {
        guard let top = elements.first else { return nil }
        let last = elements.removeLast()
        if !elements.isEmpty {
            elements[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var least = parent
                if left < elements.count && elements[left] < elements[least] { least = left }
                if right < elements.count && elements[right] < elements[least] { least = right }
                if least == parent { break }
                elements.swapAt(parent, least)
                parent = least
            }
        }
        return top
    }
}

extension MinHeap: Sendable where Element: Sendable {}
