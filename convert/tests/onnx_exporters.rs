//! ONNX files as exporters write them (convert/tests/onnx/, written by
//! make_models.py with skl2onnx and onnx.helper): each imports as it comes,
//! and the imported ANN computes the values onnx's reference evaluator
//! computed at the logits. Adding a case is adding a model to the script.

use spikeforge_convert::{import_with, ImportOptions, OnnxError};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/onnx")
}

fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::MIN, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

#[test]
fn exporters_models_import_and_compute_the_reference_logits() {
    let exp = expected();
    let cases = exp.as_object().unwrap();
    assert!(cases.len() >= 7, "{:?}", cases.keys());
    for (name, case) in cases {
        let output = case.get("output").and_then(|o| o.as_str()).map(String::from);
        let path = dir().join(format!("{name}.onnx"));
        let imported = import_with(&path, &ImportOptions { output }).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ann = &imported.ann;
        let binary = name == "skl_mlp_binary";
        for (k, (x, want)) in
            case["inputs"].as_array().unwrap().iter().zip(case["logits"].as_array().unwrap()).enumerate()
        {
            let (x, want) = (floats(x), floats(want));
            let got = ann.forward(&x).pop().unwrap();
            // A binary classifier's logit z became [-z/2, z/2].
            let got = if binary { vec![got[1] - got[0]] } else { got };
            assert_eq!(got.len(), want.len(), "{name} sample {k}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{name} sample {k}: {got:?} vs {want:?}");
            }
            if let Some(labels) = case.get("label") {
                let label = labels[k].as_u64().unwrap() as usize;
                assert_eq!(ann.classify(&x), label, "{name} sample {k}");
            }
            if let Some(proba) = case.get("proba") {
                // scikit-learn's own predict_proba is the softmax of the
                // imported network's outputs.
                let p = softmax(&ann.forward(&x).pop().unwrap());
                for (g, w) in p.iter().zip(floats(&proba[k])) {
                    assert!((g - w).abs() < 1e-4, "{name} sample {k}: {p:?} vs {:?}", proba[k]);
                }
            }
        }
    }
}

#[test]
fn the_cut_is_reported_and_the_label_branch_left_out() {
    let i = import_with(&dir().join("skl_mlp_relu.onnx"), &ImportOptions::default()).unwrap();
    assert_eq!((i.ann.inputs(), i.ann.layers.len(), i.ann.outputs()), (64, 3, 10));
    let notes = i.notes.join("\n");
    assert!(notes.contains("converted up to \"add_result2\""), "{notes}");
    for dropped in ["Softmax", "ArgMax", "ZipMap", "ArrayFeatureExtractor"] {
        assert!(notes.contains(dropped), "{dropped} not in {notes}");
    }
    // The two Casts around the input are the same type: dropped, no layer.
    let b = import_with(&dir().join("skl_mlp_binary.onnx"), &ImportOptions::default()).unwrap();
    assert_eq!(b.ann.outputs(), 2);
    assert!(b.notes.iter().any(|n| n.contains("[-z/2, z/2]")), "{:?}", b.notes);
    // Input normalization and the transposed weight fold away: two layers.
    let l = import_with(&dir().join("legacy_view.onnx"), &ImportOptions::default()).unwrap();
    assert_eq!(l.ann.layers.len(), 2, "{:?}", l.ann.layers.iter().map(|l| &l.name).collect::<Vec<_>>());
    assert_eq!(l.ann.input_shape, vec![1, 8, 8]);
}

fn err(file: &str, output: Option<&str>) -> String {
    let e = import_with(&dir().join(file), &ImportOptions { output: output.map(String::from) }).unwrap_err();
    assert!(matches!(e, OnnxError::Node { .. } | OnnxError::Model { .. }), "{e:?}");
    e.to_string()
}

#[test]
fn what_cannot_convert_is_refused_with_the_reason() {
    let e = err("skl_mlp_logistic.onnx", None);
    assert!(e.contains("(Sigmoid): a logistic (Sigmoid) hidden activation has no IF-neuron equivalent"), "{e}");
    assert!(e.contains("activation='relu'"), "{e}");
    let e = err("skl_mlp_tanh.onnx", None);
    assert!(e.contains("(Tanh): a tanh hidden activation"), "{e}");
    let e = err("layer_after_softmax.onnx", None);
    assert!(e.contains("node 2 \"g2\" (Gemm): it comes after Softmax \"sm\""), "{e}");
    assert!(e.contains("--output NAME"), "{e}");
    // With --output the user says where the network ends.
    let i = import_with(&dir().join("layer_after_softmax.onnx"), &ImportOptions { output: Some("g1".into()) });
    assert_eq!(i.unwrap().ann.outputs(), 3);
    // Two graph outputs and no head: which one is ambiguous.
    let e = err("flatten_axis.onnx", None);
    assert!(e.contains("the graph has 2 outputs (\"hr\", \"logits\"); name the one to convert with --output"), "{e}");
    let e = err("flatten_axis.onnx", Some("nope"));
    assert!(e.contains("--output nope: no node or tensor has this name; the nodes are \"flat\""), "{e}");
    // A tensor name works as well as a node name.
    let i = import_with(&dir().join("flatten_axis.onnx"), &ImportOptions { output: Some("hr".into()) }).unwrap();
    assert_eq!(i.ann.outputs(), 12);
}
