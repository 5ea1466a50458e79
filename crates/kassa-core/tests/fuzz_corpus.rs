//! Replays the kept fuzz corpora (`fuzz/corpus/<target>/`) on the stable toolchain: every
//! input the fuzzer kept goes once more through the function its target calls, with the same
//! checks, so a parser change that makes a kept input panic fails here, in the normal suite.
//! `scripts/fuzz.sh` grows the corpora; this test only reads them.

use std::path::{Path, PathBuf};

/// What a fuzz target calls with each input.
type Target = fn(&[u8]);

/// Every fuzz target and what it calls. A corpus directory or a file in `fuzz/fuzz_targets/`
/// that is not listed here fails the tests too, so a new target cannot be left out of the replay.
const TARGETS: [(&str, Target); 6] = [
    ("order_parser", kassa_core::fuzzing::order_parser),
    ("dintero_response", kassa_core::fuzzing::dintero_response),
    ("bambora_response", kassa_core::fuzzing::bambora_response),
    ("klarna_response", kassa_core::fuzzing::klarna_response),
    (
        "commercelayer_response",
        kassa_core::fuzzing::commercelayer_response,
    ),
    (
        "opencharge_response",
        kassa_core::fuzzing::opencharge_response,
    ),
];

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// The files of one corpus, sorted (libFuzzer names them by content hash).
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("corpus {} is missing: {e}", dir.display()))
        .map(|e| e.expect("a readable directory entry").path())
        // libFuzzer's temporary files start with a dot.
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_kept_input_passes_its_target_again() {
    let root = corpus_root();
    let mut replayed = Vec::new();
    for (name, target) in TARGETS {
        let files = inputs(&root.join(name));
        assert!(
            !files.is_empty(),
            "corpus fuzz/corpus/{name} is empty: seed it (see README, Fuzzing)"
        );
        for file in &files {
            let data = std::fs::read(file).expect("a readable corpus file");
            // Name the input on a panic: it is the reproducer.
            let result = std::panic::catch_unwind(|| target(&data));
            assert!(
                result.is_ok(),
                "{name}: {} fails (run it with `cargo fuzz run {name} <file>`)",
                file.display()
            );
        }
        replayed.push(format!("{name} {}", files.len()));
    }
    eprintln!("replayed: {}", replayed.join(", "));
}

#[test]
fn every_corpus_has_a_target() {
    let mut unknown = Vec::new();
    for entry in std::fs::read_dir(corpus_root()).expect("fuzz/corpus exists") {
        let entry = entry.expect("a readable directory entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !TARGETS.iter().any(|(t, _)| *t == name) {
            unknown.push(name);
        }
    }
    assert!(
        unknown.is_empty(),
        "corpora without a replay in tests/fuzz_corpus.rs: {unknown:?}"
    );
}

#[test]
fn every_fuzz_target_is_replayed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    let mut targets = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fuzz/fuzz_targets exists") {
        let path = entry.expect("a readable directory entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            targets.push(name);
        }
    }
    targets.sort();
    let mut listed: Vec<String> = TARGETS.iter().map(|(t, _)| t.to_string()).collect();
    listed.sort();
    assert_eq!(
        targets, listed,
        "fuzz targets against tests/fuzz_corpus.rs's TARGETS"
    );
}
