//! Replays the decoders' fuzz corpus and every crash ever found (`engine/chain/fuzz`) through the
//! same targets libFuzzer runs: nothing that once broke a decoder may break it again.

use std::path::PathBuf;

use sparta_chain::decode_targets;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(kind).join(target)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn replay(target: &str, run: fn(&[u8])) {
    let inputs = inputs(target);
    assert!(inputs.len() >= 5, "{target}: the corpus is missing ({} inputs)", inputs.len());
    for (path, bytes) in inputs {
        if std::panic::catch_unwind(|| run(&bytes)).is_err() {
            panic!("{target} panics on {}", path.display());
        }
    }
}

#[test]
fn the_node_answer_corpus_decodes_without_a_panic() {
    replay("node_answer", decode_targets::node_answer);
}

#[test]
fn the_calldata_corpus_decodes_without_a_panic() {
    replay("l1_calldata", decode_targets::l1_calldata);
}

#[test]
fn the_log_corpus_decodes_without_a_panic() {
    replay("l1_log", decode_targets::l1_log);
}
