import Testing
@testable import SimKernel

/// Goal: an interned list reads back as a plain list would, though each distinct value is
/// kept once, and the numbers it hands out name the values. Method: 2,000 appends and 2,000
/// writes at random positions (half through `replace`), drawn from 12 values
/// in runs (the value before, one seen long ago, a new one), mirrored in a plain array and
/// compared after every step (every fifth append a run of 0 to 3 at once, `append(_:count:)`);
/// the list holds at most the 12 values.
@Test func internedListReadsBackAsAPlainList() {
    var random = RandomStreams(seed: 5).stream("interned")
    var list = InternedList<String>()
    var plain: [String] = []
    var current = "v0"
    for step in 0..<4_000 {
        if random.below(4) == 0 { current = "v\(random.below(12))" }
        if step % 10 == 0 {
            let n = random.below(4)
            list.append(current, count: n)
            plain += Array(repeating: current, count: n)
        } else if step % 2 == 0 || plain.isEmpty {
            let d = list.append(current)
            #expect(list.distinctValue(d) == current)
            plain.append(current)
        } else if step % 4 == 1 {
            let i = random.below(plain.count)
            list[i] = current
            plain[i] = current
        } else {
            // `replace` names the values before and after by their numbers.
            let i = random.below(plain.count)
            let (old, new) = list.replace(at: i, with: current)
            #expect(list.distinctValue(old) == plain[i] && list.distinctValue(new) == current)
            #expect((old == new) == (plain[i] == current))
            plain[i] = current
        }
        #expect(list.count == plain.count)
        if step % 97 == 0 { #expect(Array(list) == plain) }
    }
    #expect(Array(list) == plain)
    #expect(list.distinctCount <= 12 && list.distinctCount >= Set(plain).count)
}
