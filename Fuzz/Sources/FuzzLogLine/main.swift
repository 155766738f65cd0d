import FuzzDriver
import Traffic

// One line of a Gitaly or Praefect JSON log, as the importer hands it to the parser.
runFuzzer { data, size in
    _ = GitalyLogParser.parse(line: bytes(data, size))
    return 0
}
