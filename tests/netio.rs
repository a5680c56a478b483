//! Network import/export (`src/netio.rs`): exact JSON round trips, certificates as input,
//! safetensors export/import at the exact binary value (F64, F32, F16, BF16), error messages
//! that name the place, `.npy` headers, the `export` command's files, and the §8 analysis of
//! an f64-rounded global minimizer imported from safetensors.

use dlgeom_cert::arith::Rat;
use dlgeom_cert::cert::Certificate;
use dlgeom_cert::certify::{analyse, Verdict};
use dlgeom_cert::data::{DataLimits, Dataset};
use dlgeom_cert::matrix::Matrix;
use dlgeom_cert::netio::{
    export, export_paths, load_network, network_from_json, network_from_safetensors, npy_bytes,
    rat_to_f32, to_safetensors, to_safetensors_with, write_npy, ExportDtype, EXPORT_FORMAT,
};
use dlgeom_cert::network::{Layer, Network, Normalisation};
use dlgeom_cert::verify::{network_record, run, Options, Outcome};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The data set and the global minimizer's certificate and network (built once).
fn global() -> &'static (Dataset, Certificate, Network) {
    static G: OnceLock<(Dataset, Certificate, Network)> = OnceLock::new();
    G.get_or_init(|| {
        let data = Dataset::load(
            Path::new("examples/two_classes.json"),
            &DataLimits::default(),
        )
        .expect("bundled example loads");
        let q = data.q;
        let r = run(
            &data,
            &Options {
                layers: q,
                norm: Normalisation::HalfMean,
                partition_limit: 5,
            },
        );
        let e = r
            .entries
            .into_iter()
            .find(|e| e.plan.id() == "global")
            .expect("a global entry");
        match e.outcome {
            Outcome::Built(b) => (data, b.certificate, b.construction.network),
            Outcome::Infeasible(why) => panic!("global minimizer infeasible: {why}"),
        }
    })
}

/// A fresh empty folder under the system temp dir.
fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dlgeom-netio-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rounded_f64(net: &Network) -> Network {
    map_net(net, |r| Rat::from_f64_exact(r.to_f64()).unwrap())
}

fn rounded_f32(net: &Network) -> Network {
    map_net(net, |r| {
        Rat::from_f64_exact(f64::from(rat_to_f32(r))).unwrap()
    })
}

fn map_net(net: &Network, f: impl Fn(&Rat) -> Rat) -> Network {
    Network {
        layers: net
            .layers
            .iter()
            .map(|l| Layer {
                w: Matrix::from_vec(l.w.rows, l.w.cols, l.w.data.iter().map(&f).collect()),
                b: l.b.iter().map(&f).collect(),
            })
            .collect(),
    }
}

/// A hand-written state dict: (name, dtype, shape, little-endian bytes).
fn st_bytes(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize(views, None).unwrap()
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A valid 2-layer (L = 1), Q = 2 state dict in F32, with `edit` applied to the tensor list.
fn tiny_f32(edit: impl FnOnce(&mut Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)>)) -> Vec<u8> {
    let mut t = vec![
        (
            "0.weight",
            Dtype::F32,
            vec![2, 2],
            f32s(&[0.1, 1.0, -2.5, 0.0]),
        ),
        ("0.bias", Dtype::F32, vec![2], f32s(&[0.5, -0.25])),
        (
            "2.weight",
            Dtype::F32,
            vec![2, 2],
            f32s(&[1.0, 0.0, 0.0, 1.0]),
        ),
        ("2.bias", Dtype::F32, vec![2], f32s(&[3.0, 1e-3])),
    ];
    edit(&mut t);
    st_bytes(&t)
}

fn rat(s: &str) -> Rat {
    Rat::parse(s).unwrap()
}

#[test]
fn json_round_trip_is_exact() {
    let (_, _, net) = global();
    let text = serde_json::to_string_pretty(&network_record(net)).unwrap();
    let back = network_from_json(text.as_bytes()).unwrap();
    assert_eq!(&back, net);
    // JSON numbers are read from their literal text, never through a float.
    let lit = br#"{"hidden_layers": 1, "width": 2, "layers": [
        {"w": [[0.1, 1e-3], [-7, 123456789012345678901234567890]], "b": ["3/4", 2.5E+2]},
        {"w": [["1", "0"], ["0", "1"]], "b": [0, 0]}]}"#;
    let n = network_from_json(lit).unwrap();
    assert_eq!(n.layers[0].w.data[0], rat("1/10"));
    assert_eq!(n.layers[0].w.data[1], rat("1/1000"));
    assert_eq!(n.layers[0].w.data[3], rat("123456789012345678901234567890"));
    assert_eq!(n.layers[0].b, vec![rat("3/4"), rat("250")]);
    // hidden_layers and width may be omitted.
    let bare = br#"{"layers": [{"w": [["2"]], "b": ["1"]}, {"w": [["1"]], "b": ["0"]}]}"#;
    assert_eq!(network_from_json(bare).unwrap().width(), 1);
}

#[test]
fn certificate_file_is_accepted() {
    let (_, cert, net) = global();
    assert_eq!(&network_from_json(cert.to_json().as_bytes()).unwrap(), net);
    let dir = temp_dir("cert-in");
    let p = dir.join("global.json");
    std::fs::write(&p, cert.to_json()).unwrap();
    assert_eq!(&load_network(&p).unwrap(), net);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn safetensors_f64_export_import_gives_the_f64_rounded_network() {
    let (_, _, net) = global();
    let bytes = to_safetensors(net, ExportDtype::F64);
    assert_eq!(
        bytes,
        to_safetensors(net, ExportDtype::F64),
        "deterministic bytes"
    );
    let back = network_from_safetensors(&bytes).unwrap();
    for (a, b) in back.flatten().iter().zip(net.flatten()) {
        assert_eq!(*a, Rat::from_f64_exact(b.to_f64()).unwrap());
    }
    assert_eq!(back, rounded_f64(net));
    // The file is a valid safetensors file for the reference crate, with our metadata.
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let l = net.hidden();
    let q = net.width();
    assert_eq!(st.len(), 2 * (l + 1));
    for k in 0..=l {
        let w = st.tensor(&format!("{}.weight", 2 * k)).unwrap();
        assert_eq!((w.dtype(), w.shape()), (Dtype::F64, &[q, q][..]));
        let b = st.tensor(&format!("{}.bias", 2 * k)).unwrap();
        assert_eq!((b.dtype(), b.shape()), (Dtype::F64, &[q][..]));
    }
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let m = meta.metadata().clone().unwrap();
    assert_eq!(m["format"], EXPORT_FORMAT);
    assert_eq!(m["hidden_layers"], l.to_string());
    assert_eq!(m["width"], q.to_string());
    // Header length is a multiple of 8 (data aligned).
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    assert_eq!(n % 8, 0);
    // Extra metadata is kept, a standard key is not overridden.
    let with = to_safetensors_with(
        net,
        ExportDtype::F64,
        &[
            ("source".into(), "abc".into()),
            ("format".into(), "x".into()),
        ],
    );
    let (_, meta) = SafeTensors::read_metadata(&with).unwrap();
    let m = meta.metadata().clone().unwrap();
    assert_eq!(
        (m["source"].as_str(), m["format"].as_str()),
        ("abc", EXPORT_FORMAT)
    );
}

#[test]
fn safetensors_f32_export_import_gives_the_f32_rounded_network() {
    let (_, _, net) = global();
    let bytes = to_safetensors(net, ExportDtype::F32);
    let back = network_from_safetensors(&bytes).unwrap();
    assert_eq!(back, rounded_f32(net));
    // Every exported value is a nearest f32 of the exact weight.
    for (a, w) in back.flatten().iter().zip(net.flatten()) {
        let f = rat_to_f32(&w);
        assert_eq!(*a, Rat::from_f64_exact(f64::from(f)).unwrap());
        let d = (a - &w).abs();
        for nb in [f.next_up(), f.next_down()] {
            let dn = (&Rat::from_f64_exact(f64::from(nb)).unwrap() - &w).abs();
            assert!(d <= dn, "{w:?} -> {f} is not nearest");
        }
    }
    let st = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("0.weight").unwrap().dtype(), Dtype::F32);
}

#[test]
fn rat_to_f32_is_correctly_rounded() {
    // For exactly representable f64 values, Rust's `as f32` is correctly rounded: an
    // independent oracle.
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        // Exponents spread over the f32 range (normal, subnormal, overflow).
        let exp = ((s >> 52) % 300) as i64 - 150 + 1023;
        let x = f64::from_bits((s & 0x800F_FFFF_FFFF_FFFF) | ((exp as u64) << 52));
        let r = Rat::from_f64_exact(x).unwrap();
        assert_eq!(rat_to_f32(&r).to_bits(), (x as f32).to_bits(), "{x:e}");
    }
    // The double-rounding case: 1 + 2^-24 + 2^-60 lies just above the f32 midpoint.
    let r = Rat::one()
        + Rat::from_f64_exact(2f64.powi(-24)).unwrap()
        + Rat::from_f64_exact(2f64.powi(-60)).unwrap();
    assert_eq!(r.to_f64() as f32, 1.0);
    assert_eq!(rat_to_f32(&r), 1.0 + f32::EPSILON);
    // Exactly the midpoint ties to even; just below goes down.
    let mid = Rat::one() + Rat::from_f64_exact(2f64.powi(-24)).unwrap();
    assert_eq!(rat_to_f32(&mid), 1.0);
    // Overflow threshold 2^128 − 2^103.
    let lim =
        Rat::from_f64_exact(2f64.powi(128)).unwrap() - Rat::from_f64_exact(2f64.powi(103)).unwrap();
    assert_eq!(rat_to_f32(&lim), f32::INFINITY);
    assert_eq!(rat_to_f32(&(&lim - &Rat::one())), f32::MAX);
    assert_eq!(rat_to_f32(&-lim), f32::NEG_INFINITY);
    assert_eq!(rat_to_f32(&rat("1/3")), 1.0f32 / 3.0);
    assert_eq!(rat_to_f32(&rat("-1e-50")).to_bits(), (-0.0f32).to_bits());
}

#[test]
fn hand_written_f32_values_are_read_exactly() {
    let net = network_from_safetensors(&tiny_f32(|_| {})).unwrap();
    assert_eq!(net.hidden(), 1);
    assert_eq!(net.width(), 2);
    // 0.1f32 is 13421773 / 2^27, not 1/10.
    assert_eq!(net.layers[0].w.data[0].canonical(), "13421773/134217728");
    assert_eq!(net.layers[0].w.data[2], rat("-5/2"));
    assert_eq!(net.layers[0].b, vec![rat("1/2"), rat("-1/4")]);
    assert_eq!(
        net.layers[1].b[1],
        Rat::from_f64_exact(f64::from(1e-3f32)).unwrap()
    );
    assert_eq!(net.layers[1].b[1].canonical(), "8589935/8589934592");
}

#[test]
fn f64_f16_bf16_values_are_read_exactly() {
    let f64b = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let u16b = |v: &[u16]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let bytes = st_bytes(&[
        ("0.weight", Dtype::F64, vec![1, 1], f64b(&[0.1])),
        // f16: 0x2E66 ≈ 0.1, 0x0001 = 2^-24 (smallest subnormal)
        ("0.bias", Dtype::F16, vec![1], u16b(&[0x2E66])),
        ("2.weight", Dtype::F16, vec![1, 1], u16b(&[0x0001])),
        // bf16: 0x3DCD ≈ 0.1
        ("2.bias", Dtype::BF16, vec![1], u16b(&[0x3DCD])),
        ("4.weight", Dtype::BF16, vec![1, 1], u16b(&[0xC000])), // -2
        ("4.bias", Dtype::F16, vec![1], u16b(&[0xBC00])),       // -1
    ]);
    let n = network_from_safetensors(&bytes).unwrap();
    assert_eq!(n.hidden(), 2);
    assert_eq!(
        n.layers[0].w.data[0].canonical(),
        "3602879701896397/36028797018963968"
    );
    assert_eq!(n.layers[0].b[0].canonical(), "819/8192");
    assert_eq!(n.layers[1].w.data[0].canonical(), "1/16777216");
    assert_eq!(n.layers[1].b[0].canonical(), "205/2048");
    assert_eq!(n.layers[2].w.data[0], rat("-2"));
    assert_eq!(n.layers[2].b[0], rat("-1"));
}

#[test]
fn safetensors_errors_name_the_tensor() {
    let err = |b: Vec<u8>| network_from_safetensors(&b).unwrap_err();
    let e = err(tiny_f32(|t| t.retain(|x| x.0 != "2.bias")));
    assert!(e.contains("missing tensor \"2.bias\""), "{e}");
    let e = err(tiny_f32(|t| t.retain(|x| x.0 != "0.weight")));
    assert!(e.contains("missing tensor \"0.weight\""), "{e}");
    let e = err(tiny_f32(|t| {
        t[3] = ("2.bias", Dtype::F32, vec![3], f32s(&[1.0, 2.0, 3.0]))
    }));
    assert!(
        e.contains("tensor \"2.bias\" has shape [3]: expected [2]"),
        "{e}"
    );
    let e = err(tiny_f32(|t| {
        t[2] = ("2.weight", Dtype::F32, vec![2, 1], f32s(&[1.0, 2.0]))
    }));
    assert!(
        e.contains("tensor \"2.weight\" has shape [2, 1]: expected [2, 2]"),
        "{e}"
    );
    let e = err(tiny_f32(|t| {
        t[0] = ("0.weight", Dtype::F32, vec![1, 2], f32s(&[1.0, 2.0]))
    }));
    assert!(
        e.contains("tensor \"0.weight\" has shape [1, 2]: expected a square matrix"),
        "{e}"
    );
    let e = err(tiny_f32(|t| t[2].3 = f32s(&[1.0, 0.0, f32::NAN, 1.0])));
    assert!(
        e.contains("tensor \"2.weight\"[1, 0] (layer 2, W row 2, column 1) is NaN"),
        "{e}"
    );
    let e = err(tiny_f32(|t| t[1].3 = f32s(&[0.0, f32::NEG_INFINITY])));
    assert!(
        e.contains("tensor \"0.bias\"[1] (layer 1, b entry 2) is -inf"),
        "{e}"
    );
    let e = err(tiny_f32(|t| {
        t.push(("1.weight", Dtype::F32, vec![1], f32s(&[1.0])))
    }));
    assert!(
        e.contains("unexpected tensor \"1.weight\"") && e.contains("even indices"),
        "{e}"
    );
    let e = err(tiny_f32(|t| {
        t.push(("model.0.weight", Dtype::F32, vec![1], f32s(&[1.0])))
    }));
    assert!(e.contains("unexpected tensor \"model.0.weight\""), "{e}");
    let e = err(tiny_f32(|t| {
        t.push(("6.bias", Dtype::F32, vec![2], f32s(&[1.0, 1.0])))
    }));
    assert!(e.contains("missing tensor \"4.weight\""), "{e}");
    let e = err(tiny_f32(|t| {
        t[1] = ("0.bias", Dtype::I32, vec![2], vec![0; 8])
    }));
    assert!(
        e.contains("tensor \"0.bias\": dtype I32 is not supported"),
        "{e}"
    );
    let e = err(tiny_f32(|t| t.truncate(2)));
    assert!(e.contains("at least one hidden layer"), "{e}");
    let e = err(st_bytes(&[]));
    assert!(e.contains("no tensors"), "{e}");
    for junk in [
        &b""[..],
        b"garbage",
        b"\xff\xff\xff\xff\xff\xff\xff\xff{}",
        b"\x02\0\0\0\0\0\0\0[]",
    ] {
        let e = network_from_safetensors(junk).unwrap_err();
        assert!(e.starts_with("not a valid safetensors file"), "{e}");
    }
    // Truncated real file.
    let good = tiny_f32(|_| {});
    for cut in [1, 8, 20, good.len() - 1] {
        assert!(network_from_safetensors(&good[..cut]).is_err());
    }
}

#[test]
fn json_errors_name_the_place() {
    let err = |s: &str| network_from_json(s.as_bytes()).unwrap_err();
    let two = |w2: &str, b2: &str| {
        format!(
            r#"{{"hidden_layers": 1, "width": 2, "layers": [
                {{"w": [["1", "0"], ["0", "1"]], "b": ["0", "0"]}},
                {{"w": {w2}, "b": {b2}}}]}}"#
        )
    };
    assert_eq!(
        err(&two(
            r#"[["1", "0"], ["0", "1"], ["1/0", "0"]]"#,
            r#"["0", "0"]"#
        )),
        "layer 2, W: expected 2 rows (width Q = 2), found 3"
    );
    assert_eq!(
        err(&two(r#"[["1", "0"], ["1/0", "1"]]"#, r#"["0", "0"]"#)),
        r#"layer 2, W row 2, column 1: "1/0" has a zero denominator"#
    );
    assert_eq!(
        err(&two(r#"[["1", "0"], ["0"]]"#, r#"["0", "0"]"#)),
        "layer 2, W row 2: expected 2 entries (width Q = 2), found 1"
    );
    assert_eq!(
        err(&two(r#"[["1", "0"], ["0", "1"]]"#, r#"["0"]"#)),
        "layer 2, b: expected 2 entries (width Q = 2), found 1"
    );
    assert_eq!(
        err(&two(r#"[["1", "0"], ["0", "1"]]"#, r#"["0", "NaN"]"#)),
        r#"layer 2, b entry 2: "NaN" is not a finite exact number (NaN and infinities are not allowed)"#
    );
    assert_eq!(
        err(&two(r#"[["1", "0"], ["0", true]]"#, r#"["0", "0"]"#)),
        "layer 2, W row 2, column 2: expected a number (a string like \"3/4\" or a JSON number), found a boolean"
    );
    let e = err(
        r#"{"hidden_layers": 2, "layers": [{"w": [["1"]], "b": ["0"]}, {"w": [["1"]], "b": ["0"]}]}"#,
    );
    assert!(
        e.contains("\"hidden_layers\" is 2 but \"layers\" has 2 entries"),
        "{e}"
    );
    let e =
        err(r#"{"width": 2, "layers": [{"w": [["1"]], "b": ["0"]}, {"w": [["1"]], "b": ["0"]}]}"#);
    assert_eq!(e, "layer 1, W: expected 2 rows (width Q = 2), found 1");
    let e = err(r#"{"layers": [{"w": [["1"]], "b": ["0"]}]}"#);
    assert!(e.contains("at least one hidden layer"), "{e}");
    let e =
        err(r#"{"layers": [{"w": [["1"]], "b": ["0"]}, {"w": [["1"]], "b": ["0"]}], "extra": 1}"#);
    assert!(e.contains("unknown key \"extra\""), "{e}");
    let e =
        err(r#"{"layers": [{"w": [["1"]], "b": ["0"], "b": ["1"]}, {"w": [["1"]], "b": ["0"]}]}"#);
    assert!(e.contains("duplicate key \"b\""), "{e}");
    let e = err(r#"{"layers": [{"w": [["1"]], "b": ["0"]}, {"w": [["1"]], "b": ["0"]}"#);
    assert!(e.starts_with("malformed JSON at line 1"), "{e}");
    let e = err(r#"{"layers": []} trailing"#);
    assert!(
        e.contains("malformed JSON") && e.contains("more text after the end"),
        "{e}"
    );
    assert!(err("").contains("empty"));
    assert!(err("[1, 2]").contains("expected a JSON object"));
    assert!(err(r#"{"classes": []}"#).contains("data file"));
    assert!(err(r#"{"format": "dlgeom-data/1", "classes": []}"#).contains("data file"));
    assert!(network_from_json(b"\xff\xfe")
        .unwrap_err()
        .contains("UTF-8"));
    // A certificate whose network is broken: the message says where.
    let (_, cert, _) = global();
    let mut c = cert.clone();
    c.network.layers[1].w[0][1] = "x".into();
    let e = network_from_json(c.to_json().as_bytes()).unwrap_err();
    assert!(
        e.starts_with("certificate network: layer 2, W row 1, column 2: \"x\""),
        "{e}"
    );
    // Deep nesting is an error, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(network_from_json(deep.as_bytes()).is_err());
}

#[test]
fn npy_header_is_valid() {
    let (_, _, net) = global();
    let q = net.width();
    let data: Vec<f64> = net.layers[0].w.data.iter().map(Rat::to_f64).collect();
    let b = npy_bytes(&[q, q], &data).unwrap();
    assert_eq!(&b[..6], b"\x93NUMPY");
    assert_eq!((b[6], b[7]), (1, 0));
    let hlen = usize::from(u16::from_le_bytes([b[8], b[9]]));
    assert_eq!((10 + hlen) % 64, 0);
    let header = std::str::from_utf8(&b[10..10 + hlen]).unwrap();
    assert!(header.ends_with('\n'));
    assert_eq!(
        header.trim_end(),
        format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({q}, {q}), }}")
    );
    let values: Vec<f64> = b[10 + hlen..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(values, data);
    let one = npy_bytes(&[3], &[1.0, 2.0, 3.0]).unwrap();
    assert!(std::str::from_utf8(&one[10..64])
        .unwrap()
        .contains("'shape': (3,)"));
    assert!(npy_bytes(&[2, 2], &[1.0]).is_none());
    let dir = temp_dir("npy");
    let p = dir.join("a.npy");
    write_npy(&p, &[q, q], &data).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b);
    assert!(write_npy(&p, &[5], &data).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn export_writes_f64_f32_and_npy_and_refuses_to_overwrite() {
    let (_, cert, net) = global();
    let dir = temp_dir("export");
    let cpath = dir.join("global.json");
    std::fs::write(&cpath, cert.to_json()).unwrap();
    let out = dir.join("out").join("weights.safetensors");
    let written = export(&cpath, &out, true, false).unwrap();
    let (p64, p32, npy_dir) = export_paths(&out);
    assert_eq!(p32, dir.join("out").join("weights.f32.safetensors"));
    let mut expected = vec![p64.clone(), p32.clone()];
    for k in 0..=net.hidden() {
        expected.push(npy_dir.join(format!("{}.weight.npy", 2 * k)));
        expected.push(npy_dir.join(format!("{}.bias.npy", 2 * k)));
    }
    assert_eq!(written, expected);
    assert_eq!(load_network(&p64).unwrap(), rounded_f64(net));
    assert_eq!(load_network(&p32).unwrap(), rounded_f32(net));
    let bytes = std::fs::read(&p64).unwrap();
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let m = meta.metadata().clone().unwrap();
    assert_eq!(m["configuration"], "global");
    assert_eq!(m["data_sha256"], cert.data.sha256_bytes);
    assert_eq!(m["source"].len(), 64);
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    // Refuses to overwrite; nothing changes.
    std::fs::write(&p32, b"keep").unwrap();
    let e = export(&cpath, &out, true, false).unwrap_err();
    assert!(
        e.contains("refusing to overwrite") && e.contains("weights.f32.safetensors"),
        "{e}"
    );
    assert_eq!(std::fs::read(&p32).unwrap(), b"keep");
    // --force overwrites, with the same bytes as before for the f64 file.
    export(&cpath, &out, false, true).unwrap();
    assert_eq!(std::fs::read(&p64).unwrap(), bytes);
    assert_eq!(load_network(&p32).unwrap(), rounded_f32(net));
    // A network JSON block is accepted as input too; bad input writes nothing.
    let npath = dir.join("net.json");
    std::fs::write(&npath, serde_json::to_string(&network_record(net)).unwrap()).unwrap();
    let out2 = dir.join("n.safetensors");
    export(&npath, &out2, false, false).unwrap();
    assert_eq!(load_network(&out2).unwrap(), rounded_f64(net));
    std::fs::write(&npath, "{").unwrap();
    let out3 = dir.join("m.safetensors");
    assert!(export(&npath, &out3, true, false)
        .unwrap_err()
        .contains("malformed JSON"));
    assert!(!out3.exists());
    assert!(export(&dir.join("nope.json"), &out3, false, false)
        .unwrap_err()
        .starts_with("cannot read"));
    assert!(export(&cpath, &dir, false, false)
        .unwrap_err()
        .contains("not a folder"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn imported_f64_rounded_global_minimizer_is_analysed() {
    let (data, cert, net) = global();
    assert_eq!(cert.claims.verdict, "global-minimum");
    let imported = network_from_safetensors(&to_safetensors(net, ExportDtype::F64)).unwrap();
    assert_eq!(imported, rounded_f64(net));
    let a = analyse(&imported, data, Normalisation::HalfMean);
    // Observed on examples/two_classes.json (Q = 2, L = 2): the exact minimizer has margin 2,
    // far above the relative rounding error of f64 (~1e-16), so every pre-activation keeps
    // its sign and the imported network has a positive margin too (2 again).
    let (margin, _) = a.margin().expect("hidden layers exist");
    assert!(margin.is_positive());
    // Rounding the weights to f64 moves the outputs off the targets by a tiny nonzero amount:
    // the exact cost is positive but tiny (25/2^112 ≈ 4.8e-33 here), so the rounded network
    // is no longer an exact zero of the cost.
    assert!(a.exact.cost.is_positive(), "cost {:?}", a.exact.cost);
    assert!(a.exact.cost.to_f64() < 1e-20, "cost {:?}", a.exact.cost);
    // With positive margin the exact gradient exists; it is nonzero (entries ~1e-16, in the
    // output layer and the last hidden bias), so by §2 the rounded network is not a critical
    // point: verdict "not a local minimum", with an exact descent step that lowers the cost.
    assert!(a.exact.gradient.is_some());
    assert!(!a.gradient_is_zero());
    assert_eq!(a.verdict, Verdict::NotLocalMinimum);
    let d = a.descent.as_ref().expect("a descent witness");
    assert!(d.cost_after < a.exact.cost);
    // §8: every pattern group can still be fitted exactly (Σ LB_p = 0), so the gap is the
    // whole (tiny) cost; the float cross-check sees a cost of the same negligible size.
    let region = a
        .region
        .as_ref()
        .expect("positive margin gives the §8 bound");
    assert!(region.total.is_zero());
    assert_eq!(region.gap, a.exact.cost);
    assert!(a.float.cost < 1e-20);
}
