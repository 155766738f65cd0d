import SimKernel
import Testing

@Suite struct PathListTests {
    /// Goal: `PathList` finds the first empty path and the first holding a byte, wherever it is.
    @Test func aPathListFindsItsFirstEmptyPathAndByte() {
        var list = PathList()
        #expect(list.firstEmpty == nil && list.firstHolding(UInt8(ascii: "x")) == nil)
        for p in ["ab", "c", "", "dx", "", "xe"] { list.append(p) }
        #expect(list.firstEmpty == 2)
        #expect(list.firstHolding(UInt8(ascii: "x")) == 3)
        #expect(list.firstHolding(UInt8(ascii: "a")) == 0)
        #expect(list.firstHolding(UInt8(ascii: "e")) == 5)
        #expect(list.firstHolding(UInt8(ascii: "c")) == 1)
        #expect(list.firstHolding(UInt8(ascii: "z")) == nil)
        var first = PathList()
        first.append("")
        #expect(first.firstEmpty == 0)
    }
}
