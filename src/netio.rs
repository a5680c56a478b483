//! Network import and export: exact JSON weights, `.safetensors` files named like a PyTorch
//! state dict, and `.npy` arrays (PRODUCT.md, `certify --network` and `export`).
//!
//! # Import
//!
//! - [`network_from_json`] reads the certificate's network block (`{"hidden_layers": L,
//!   "width": Q, "layers": [{"w": [[…]], "b": […]}, …]}`) or a whole certificate (its
//!   `network` field). Numbers are exact: strings `"-7"`, `"3/4"`, `"0.125"`, `"-1.5e-3"`,
//!   or JSON numbers read from their literal text (`0.1` is exactly `1/10`).
//! - [`network_from_safetensors`] reads float weights. **Every float is read at its exact
//!   binary value**: the little-endian bytes are decoded, widened losslessly to `f64` and
//!   turned into the rational they denote ([`Rat::from_f64_exact`]); `0.1f32` is
//!   `13421773/134217728`, not `1/10`. NaN and infinities are rejected. Dtypes `F64`, `F32`,
//!   `F16`, `BF16`.
//! - [`load_network`] dispatches on the file extension.
//!
//! # The state-dict naming
//!
//! A network with `L` hidden layers of width `Q` is the PyTorch model
//! `nn.Sequential(Linear(Q,Q), ReLU(), Linear(Q,Q), ReLU(), …, Linear(Q,Q))` (`L` ReLUs),
//! whose `state_dict` has exactly the tensors `0.weight`, `0.bias`, `2.weight`, `2.bias`, …,
//! `{2L}.weight`, `{2L}.bias` (ReLU modules have no parameters, so the indices are even).
//! A Linear weight has shape `[out, in]`, which is our `W_ℓ` row-major; a bias has shape
//! `[Q]`. Import accepts exactly these tensors (no prefix such as `model.`); export writes
//! exactly these.
//!
//! # Export
//!
//! - [`to_safetensors`] writes the state dict in `F64` or `F32`, every value correctly
//!   rounded (nearest, ties to even) from the exact rational — for `F32` directly from the
//!   rational, without the double rounding of going through `f64` ([`rat_to_f32`]). The file
//!   is written byte by byte here (not by the `safetensors` crate, whose metadata map has no
//!   fixed order), so the same network gives the same bytes.
//! - [`write_npy`] writes one `.npy` array (format 1.0, `'<f8'`, C order).
//! - [`export`] does the whole `export` command with atomic, non-clobbering writes.
//!
//! Nothing here panics on bad input: every problem is an `Err(String)` naming the layer,
//! row and column, or the tensor and index.

use crate::arith::{ParseLimits, Rat};
use crate::data::{quote, shorten};
use crate::matrix::Matrix;
use crate::network::{Layer, Network};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The value of the `format` metadata key of exported `.safetensors` files.
pub const EXPORT_FORMAT: &str = "dlgeom-cert export";

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

/// Lowercase hex SHA-256.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------
// A strict JSON tree (literal number text, duplicate keys rejected)
// ---------------------------------------------------------------------------------------

/// The key serde_json (feature `arbitrary_precision`) uses to hand a number's literal text
/// to a visitor as a one-entry map.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A parsed JSON value that keeps number literals as text and object keys in order.
enum J {
    Num(String),
    Str(String),
    Bool,
    Null,
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn kind(&self) -> String {
        match self {
            J::Num(t) => format!("the JSON number {}", shorten(t)),
            J::Str(s) => format!("the string {}", quote(s)),
            J::Bool => "a boolean".into(),
            J::Null => "null".into(),
            J::Arr(_) => "an array".into(),
            J::Obj(_) => "an object".into(),
        }
    }
    fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(v) => v.iter().find(|(k, _)| k == key).map(|(_, x)| x),
            _ => None,
        }
    }
}

struct JVisitor;

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        d.deserialize_any(JVisitor)
    }
}

impl<'de> Visitor<'de> for JVisitor {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<J, E> {
        Ok(J::Bool)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<J, E> {
        Ok(J::Num(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<J, E> {
        Ok(J::Num(v.to_string()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<J, E> {
        Ok(J::Num(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<J, E> {
        Ok(J::Num(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<J, E> {
        Err(E::custom(
            "internal error: a JSON number reached the reader as a float \
             (serde_json must be built with the arbitrary_precision feature)",
        ))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<J, E> {
        Ok(J::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<J, E> {
        Ok(J::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element::<J>()? {
            v.push(x);
        }
        Ok(J::Arr(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut entries: Vec<(String, J)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut first = true;
        while let Some(k) = map.next_key::<String>()? {
            if first && k == NUMBER_TOKEN {
                let text: String = map.next_value()?;
                if map.next_key::<String>()?.is_none() {
                    return Ok(J::Num(text));
                }
                return Err(de::Error::custom(format!(
                    "unexpected key {} in an object",
                    quote(NUMBER_TOKEN)
                )));
            }
            first = false;
            if !seen.insert(k.clone()) {
                return Err(de::Error::custom(format!(
                    "duplicate key {} in an object",
                    quote(&k)
                )));
            }
            let v: J = map.next_value()?;
            entries.push((k, v));
        }
        Ok(J::Obj(entries))
    }
}

fn parse_json_tree(bytes: &[u8]) -> Result<J, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not valid UTF-8 text (byte {}): expected a JSON network or certificate \
             (a .safetensors file must have the .safetensors extension)",
            e.valid_up_to() + 1
        )
    })?;
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if body.trim().is_empty() {
        return Err("the file is empty: expected a JSON network block or a certificate".into());
    }
    let mut de = serde_json::Deserializer::from_str(body);
    let tree = J::deserialize(&mut de).and_then(|t| de.end().map(|()| t));
    tree.map_err(|e| {
        if e.line() == 0 {
            return format!("malformed JSON: {e}");
        }
        let s = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let msg = s.strip_suffix(&suffix).unwrap_or(&s);
        let hint = if e.is_eof() {
            " (the document ends too early: is the file truncated?)"
        } else if msg.starts_with("trailing characters") {
            " (there is more text after the end of the JSON document)"
        } else {
            ""
        };
        format!(
            "malformed JSON at line {}, column {}: {msg}{hint}",
            e.line(),
            e.column()
        )
    })
}

// ---------------------------------------------------------------------------------------
// JSON import
// ---------------------------------------------------------------------------------------

/// What a certificate says about where its network came from (for export metadata).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct CertInfo {
    configuration: Option<String>,
    data_sha256: Option<String>,
}

fn json_number(x: &J, place: &str, limits: &ParseLimits) -> Result<Rat, String> {
    match x {
        J::Num(t) | J::Str(t) => {
            Rat::parse_with(t, limits).map_err(|e| format!("{place}: {}", shorten(&e.0)))
        }
        other => Err(format!(
            "{place}: expected a number (a string like \"3/4\" or a JSON number), found {}",
            other.kind()
        )),
    }
}

fn json_count(x: &J, what: &str) -> Result<usize, String> {
    let bad = || {
        format!(
            "\"{what}\": expected a non-negative integer, found {}",
            x.kind()
        )
    };
    match x {
        J::Num(t) => t.parse::<usize>().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// Reads the network block (already known to be the network, bare or from a certificate).
fn network_from_block(block: &J, limits: &ParseLimits) -> Result<Network, String> {
    let J::Obj(entries) = block else {
        return Err(format!(
            "the network must be a JSON object {{\"hidden_layers\": L, \"width\": Q, \"layers\": [...]}}, found {}",
            block.kind()
        ));
    };
    for (k, _) in entries {
        if !matches!(k.as_str(), "hidden_layers" | "width" | "layers") {
            return Err(format!(
                "unknown key {} in the network block (expected \"hidden_layers\", \"width\", \"layers\")",
                quote(k)
            ));
        }
    }
    let hidden = block
        .get("hidden_layers")
        .map(|x| json_count(x, "hidden_layers"))
        .transpose()?;
    let width = block
        .get("width")
        .map(|x| json_count(x, "width"))
        .transpose()?;
    let layers = match block.get("layers") {
        None => return Err("the network block has no \"layers\" array".into()),
        Some(J::Arr(v)) => v,
        Some(other) => {
            return Err(format!(
                "\"layers\": expected an array of {{\"w\": [[...]], \"b\": [...]}}, found {}",
                other.kind()
            ))
        }
    };
    if layers.len() < 2 {
        return Err(format!(
            "\"layers\" has {} entr{}: a network needs at least one hidden layer and the output layer (L + 1 ≥ 2 layers)",
            layers.len(),
            if layers.len() == 1 { "y" } else { "ies" }
        ));
    }
    let l = layers.len() - 1;
    if let Some(h) = hidden {
        if h != l {
            return Err(format!(
                "\"hidden_layers\" is {h} but \"layers\" has {} entries (expected L + 1 = {})",
                layers.len(),
                // In u128: L = usize::MAX must not wrap to 0.
                h as u128 + 1
            ));
        }
    }
    // Q: from "width", else from the first layer's bias.
    let q = match width {
        Some(q) => q,
        None => match layers[0].get("b") {
            Some(J::Arr(b)) => b.len(),
            _ => match layers[0].get("w") {
                Some(J::Arr(w)) => w.len(),
                _ => 0,
            },
        },
    };
    if q == 0 {
        return Err("the width Q must be at least 1".into());
    }
    let mut out = Vec::with_capacity(layers.len());
    for (li, layer) in layers.iter().enumerate() {
        let ln = li + 1;
        let J::Obj(fields) = layer else {
            return Err(format!(
                "layer {ln}: expected an object {{\"w\": [[...]], \"b\": [...]}}, found {}",
                layer.kind()
            ));
        };
        for (k, _) in fields {
            if k != "w" && k != "b" {
                return Err(format!(
                    "layer {ln}: unknown key {} (expected \"w\" and \"b\")",
                    quote(k)
                ));
            }
        }
        let rows = match layer.get("w") {
            Some(J::Arr(r)) => r,
            Some(other) => {
                return Err(format!(
                    "layer {ln}, W: expected an array of {q} rows, found {}",
                    other.kind()
                ))
            }
            None => return Err(format!("layer {ln}: missing \"w\"")),
        };
        if rows.len() != q {
            return Err(format!(
                "layer {ln}, W: expected {q} rows (width Q = {q}), found {}",
                rows.len()
            ));
        }
        let mut data = Vec::with_capacity(q * q);
        for (ri, row) in rows.iter().enumerate() {
            let J::Arr(row) = row else {
                return Err(format!(
                    "layer {ln}, W row {}: expected an array of {q} numbers, found {}",
                    ri + 1,
                    row.kind()
                ));
            };
            if row.len() != q {
                return Err(format!(
                    "layer {ln}, W row {}: expected {q} entries (width Q = {q}), found {}",
                    ri + 1,
                    row.len()
                ));
            }
            for (ci, x) in row.iter().enumerate() {
                data.push(json_number(
                    x,
                    &format!("layer {ln}, W row {}, column {}", ri + 1, ci + 1),
                    limits,
                )?);
            }
        }
        let b = match layer.get("b") {
            Some(J::Arr(b)) => b,
            Some(other) => {
                return Err(format!(
                    "layer {ln}, b: expected an array of {q} numbers, found {}",
                    other.kind()
                ))
            }
            None => return Err(format!("layer {ln}: missing \"b\"")),
        };
        if b.len() != q {
            return Err(format!(
                "layer {ln}, b: expected {q} entries (width Q = {q}), found {}",
                b.len()
            ));
        }
        let b = b
            .iter()
            .enumerate()
            .map(|(i, x)| json_number(x, &format!("layer {ln}, b entry {}", i + 1), limits))
            .collect::<Result<Vec<Rat>, String>>()?;
        out.push(Layer {
            w: Matrix::from_vec(q, q, data),
            b,
        });
    }
    Ok(Network { layers: out })
}

/// Parses a network block or a certificate; also returns what a certificate says about its
/// origin.
fn parse_network_json(
    bytes: &[u8],
    limits: &ParseLimits,
) -> Result<(Network, Option<CertInfo>), String> {
    let tree = parse_json_tree(bytes)?;
    if !matches!(tree, J::Obj(_)) {
        return Err(format!(
            "expected a JSON object (a network block or a certificate), found {}",
            tree.kind()
        ));
    }
    if let Some(J::Str(f)) = tree.get("format") {
        if f.starts_with("dlgeom-data/") {
            return Err(format!(
                "this is a data file (format {}), not a network or a certificate",
                quote(f)
            ));
        }
        if !f.starts_with("dlgeom-cert/") {
            return Err(format!(
                "unknown format {}: expected a dlgeom-cert certificate or a bare network block",
                quote(f)
            ));
        }
    }
    if let Some(net) = tree.get("network") {
        let info = CertInfo {
            configuration: match tree.get("configuration").and_then(|c| c.get("id")) {
                Some(J::Str(s)) => Some(s.clone()),
                _ => None,
            },
            data_sha256: match tree.get("data").and_then(|c| c.get("sha256_bytes")) {
                Some(J::Str(s)) => Some(s.clone()),
                _ => None,
            },
        };
        let n = network_from_block(net, limits).map_err(|e| format!("certificate network: {e}"))?;
        return Ok((n, Some(info)));
    }
    if tree.get("layers").is_some() {
        return Ok((network_from_block(&tree, limits)?, None));
    }
    if tree.get("classes").is_some() {
        return Err(
            "this looks like a data file (it has \"classes\"), not a network or a certificate"
                .into(),
        );
    }
    Err("expected a network block {\"hidden_layers\": L, \"width\": Q, \"layers\": [...]} or a certificate with a \"network\" field".into())
}

/// Reads a network from JSON: either the certificate's network block
/// `{"hidden_layers": L, "width": Q, "layers": [{"w": [[…]], "b": […]}, …]}` or a whole
/// certificate (its `network` field is used).
///
/// Numbers are exact strings (`"-7"`, `"3/4"`, `"0.125"`, `"-1.5e-3"`) or JSON numbers read
/// from their literal text. `hidden_layers` and `width` may be omitted; when present they
/// must agree with `layers`. Checked: `L ≥ 1`, `L + 1` layers, every `W` is `Q×Q`, every `b`
/// has `Q` entries, no unknown or duplicate keys. Errors name the place (1-based):
///
/// ```
/// use dlgeom_cert::netio::network_from_json;
/// let ok = br#"{"hidden_layers": 1, "width": 1,
///               "layers": [{"w": [["2"]], "b": ["-1/2"]}, {"w": [[0.5]], "b": [3]}]}"#;
/// let net = network_from_json(ok).unwrap();
/// assert_eq!(net.layers[1].w.data[0].canonical(), "1/2");
///
/// let bad = br#"{"layers": [{"w": [["1", "0"], ["0", "1"]], "b": ["0", "0"]},
///                           {"w": [["1", "0"], ["0", "1/0"]], "b": ["0", "0"]}]}"#;
/// assert_eq!(network_from_json(bad).unwrap_err(),
///            r#"layer 2, W row 2, column 2: "1/0" has a zero denominator"#);
/// ```
pub fn network_from_json(bytes: &[u8]) -> Result<Network, String> {
    network_from_json_with(bytes, &ParseLimits::default())
}

/// [`network_from_json`] with every number read under `limits` (`certify` passes the
/// certificate limits of its flags, so that it reads back every certificate `verify` wrote
/// under the same flags).
pub fn network_from_json_with(bytes: &[u8], limits: &ParseLimits) -> Result<Network, String> {
    parse_network_json(bytes, limits).map(|(n, _)| n)
}

// ---------------------------------------------------------------------------------------
// safetensors import
// ---------------------------------------------------------------------------------------

/// The exact value of an IEEE binary16 number, as an `f64` (exact: every binary16 is one).
fn f16_to_f64(h: u16) -> f64 {
    let neg = h & 0x8000 != 0;
    let e = i32::from((h >> 10) & 0x1f);
    let m = f64::from(h & 0x3ff);
    let mag = match e {
        0 => m * 2f64.powi(-24),
        31 if m == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1024.0 + m) * 2f64.powi(e - 25),
    };
    if neg {
        -mag
    } else {
        mag
    }
}

/// Decodes a tensor's little-endian bytes to exact `f64` values.
fn decode_floats(name: &str, view: &TensorView<'_>) -> Result<Vec<f64>, String> {
    let data = view.data();
    let v: Vec<f64> = match view.dtype() {
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                f64::from_le_bytes(a)
            })
            .collect(),
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| {
                let mut a = [0u8; 4];
                a.copy_from_slice(c);
                f64::from(f32::from_le_bytes(a))
            })
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|c| f16_to_f64(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|c| {
                f64::from(f32::from_bits(
                    u32::from(u16::from_le_bytes([c[0], c[1]])) << 16,
                ))
            })
            .collect(),
        other => {
            return Err(format!(
                "tensor {}: dtype {other:?} is not supported (expected F64, F32, F16 or BF16)",
                quote(name)
            ))
        }
    };
    Ok(v)
}

/// One Linear layer's tensor index `k` (the `k` of `k.weight`) as our layer number.
fn parse_tensor_name(name: &str) -> Option<(usize, bool)> {
    let (idx, kind) = name.split_once('.')?;
    let is_weight = match kind {
        "weight" => true,
        "bias" => false,
        _ => return None,
    };
    if idx.is_empty()
        || !idx.bytes().all(|b| b.is_ascii_digit())
        || (idx.len() > 1 && idx.starts_with('0'))
    {
        return None;
    }
    Some((idx.parse().ok()?, is_weight))
}

fn shape_text(s: &[usize]) -> String {
    format!(
        "[{}]",
        s.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Reads a network from a `.safetensors` state dict of
/// `nn.Sequential(Linear(Q,Q), ReLU(), …, Linear(Q,Q))`: exactly the tensors `0.weight`,
/// `0.bias`, `2.weight`, …, `{2L}.weight`, `{2L}.bias` with `L ≥ 1`, weights of shape
/// `[Q, Q]` (`[out, in]`, i.e. `W` row-major) and biases of shape `[Q]`.
///
/// Values are read at their **exact binary value** (dtypes `F64`, `F32`, `F16`, `BF16`;
/// little-endian as the format prescribes); NaN and infinities are rejected naming the
/// tensor and the index. Missing or unexpected tensors, wrong shapes, non-square weights
/// and inconsistent widths are rejected naming the tensor.
///
/// ```
/// use dlgeom_cert::netio::{network_from_safetensors, to_safetensors, ExportDtype};
/// use dlgeom_cert::netio::network_from_json;
/// let net = network_from_json(br#"{"layers": [{"w": [["1/3"]], "b": ["0"]},
///                                            {"w": [["1"]], "b": ["1/10"]}]}"#).unwrap();
/// let back = network_from_safetensors(&to_safetensors(&net, ExportDtype::F64)).unwrap();
/// assert_eq!(back.layers[0].w.data[0].to_f64(), 1.0 / 3.0);
/// assert_eq!(back.layers[1].b[0].canonical(), "3602879701896397/36028797018963968");
/// ```
pub fn network_from_safetensors(bytes: &[u8]) -> Result<Network, String> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| format!("not a valid safetensors file: {e}"))?;
    let mut names: Vec<&str> = st.names();
    names.sort_unstable();
    // layer index k (tensor prefix 2k) -> (weight present, bias present)
    let mut found: BTreeMap<usize, (bool, bool)> = BTreeMap::new();
    for name in &names {
        let Some((idx, is_weight)) = parse_tensor_name(name) else {
            return Err(format!(
                "unexpected tensor {}: expected only the parameters of \
                 nn.Sequential(Linear, ReLU, …, Linear), named 0.weight, 0.bias, 2.weight, 2.bias, … \
                 (no prefix such as \"model.\")",
                quote(name)
            ));
        };
        if idx % 2 == 1 {
            return Err(format!(
                "unexpected tensor {}: in nn.Sequential(Linear, ReLU, …, Linear) the Linear \
                 layers have even indices 0, 2, 4, … (odd indices are ReLUs, which have no parameters)",
                quote(name)
            ));
        }
        let e = found.entry(idx / 2).or_insert((false, false));
        if is_weight {
            e.0 = true;
        } else {
            e.1 = true;
        }
    }
    let Some(&last) = found.keys().next_back() else {
        return Err(
            "the file holds no tensors: expected 0.weight, 0.bias, 2.weight, 2.bias, …".into(),
        );
    };
    if last == 0 {
        return Err(
            "only one Linear layer (tensors 0.*): a network needs at least one hidden layer, \
             i.e. tensors 0.weight, 0.bias, 2.weight, 2.bias at least"
                .into(),
        );
    }
    for k in 0..=last {
        let (w, b) = found.get(&k).copied().unwrap_or((false, false));
        for (present, kind) in [(w, "weight"), (b, "bias")] {
            if !present {
                return Err(format!(
                    "missing tensor \"{}.{kind}\": the highest Linear index is {} (tensor \"{}.*\"), \
                     so every one of 0.weight, 0.bias, 2.weight, …, {}.bias must be present",
                    2 * k,
                    2 * last,
                    2 * last,
                    2 * last
                ));
            }
        }
    }
    let view = |name: &str| {
        st.tensor(name)
            .map_err(|e| format!("tensor {}: {e}", quote(name)))
    };
    // Q from the first weight.
    let w0 = view("0.weight")?;
    let q = match w0.shape() {
        [a, b] if a == b && *a > 0 => *a,
        [a, b] if a == b => {
            return Err(
                "tensor \"0.weight\" has shape [0, 0]: the width Q must be at least 1".into(),
            )
        }
        s => {
            return Err(format!(
                "tensor \"0.weight\" has shape {}: expected a square matrix [Q, Q] \
                 (every layer has width Q = number of classes)",
                shape_text(s)
            ))
        }
    };
    let mut layers = Vec::with_capacity(last + 1);
    for k in 0..=last {
        let ln = k + 1;
        let wname = format!("{}.weight", 2 * k);
        let bname = format!("{}.bias", 2 * k);
        let wv = view(&wname)?;
        if wv.shape() != [q, q] {
            return Err(format!(
                "tensor {} has shape {}: expected [{q}, {q}] (width Q = {q}, from \"0.weight\")",
                quote(&wname),
                shape_text(wv.shape())
            ));
        }
        let bv = view(&bname)?;
        if bv.shape() != [q] {
            return Err(format!(
                "tensor {} has shape {}: expected [{q}] (width Q = {q}, from \"0.weight\")",
                quote(&bname),
                shape_text(bv.shape())
            ));
        }
        let wf = decode_floats(&wname, &wv)?;
        let bf = decode_floats(&bname, &bv)?;
        let mut w = Vec::with_capacity(q * q);
        for (i, x) in wf.into_iter().enumerate() {
            let (r, c) = (i / q, i % q);
            w.push(Rat::from_f64_exact(x).ok_or_else(|| {
                format!(
                    "tensor {}[{r}, {c}] (layer {ln}, W row {}, column {}) is {x}: NaN and infinities are not allowed",
                    quote(&wname),
                    r + 1,
                    c + 1
                )
            })?);
        }
        let mut b = Vec::with_capacity(q);
        for (i, x) in bf.into_iter().enumerate() {
            b.push(Rat::from_f64_exact(x).ok_or_else(|| {
                format!(
                    "tensor {}[{i}] (layer {ln}, b entry {}) is {x}: NaN and infinities are not allowed",
                    quote(&bname),
                    i + 1
                )
            })?);
        }
        layers.push(Layer {
            w: Matrix::from_vec(q, q, w),
            b,
        });
    }
    Ok(Network { layers })
}

/// `true` when the path ends in `.safetensors` (case-insensitive).
fn is_safetensors_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
}

/// Reads a network file: `.safetensors` (any case) with [`network_from_safetensors`],
/// anything else as JSON with [`network_from_json`]. Errors start with the path.
pub fn load_network(path: &Path) -> Result<Network, String> {
    load_network_with(path, &ParseLimits::default())
}

/// [`load_network`] with the numbers of a JSON network read under `limits`
/// ([`network_from_json_with`]).
pub fn load_network_with(path: &Path, limits: &ParseLimits) -> Result<Network, String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let r = if is_safetensors_path(path) {
        network_from_safetensors(&bytes)
    } else {
        network_from_json_with(&bytes, limits)
    };
    r.map_err(|e| format!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------

/// The float type of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExportDtype {
    /// IEEE binary64 (`torch.float64`).
    F64,
    /// IEEE binary32 (`torch.float32`).
    F32,
}

impl ExportDtype {
    /// The safetensors dtype name, `"F64"` or `"F32"`.
    pub fn name(self) -> &'static str {
        match self {
            ExportDtype::F64 => "F64",
            ExportDtype::F32 => "F32",
        }
    }
}

/// The `f32` nearest to the exact rational `r` (ties to even; magnitudes at or beyond
/// `2^128 − 2^103` give `±∞`, as IEEE 754 prescribes).
///
/// Rounding to `f64` first and then to `f32` can round twice the wrong way (when the `f64`
/// value falls exactly halfway between two `f32`s); here the `f64` value only locates the
/// answer, and the nearest of it and its two `f32` neighbours is chosen by exact comparison.
///
/// ```
/// use dlgeom_cert::arith::Rat;
/// use dlgeom_cert::netio::rat_to_f32;
/// assert_eq!(rat_to_f32(&Rat::parse("1/10").unwrap()), 0.1f32);
/// // 1 + 2^-24 + 2^-60: f64 rounding gives 1 + 2^-24, a tie that f32 would break down to 1,
/// // but the exact value is above the midpoint, so the nearest f32 is 1 + 2^-23.
/// let r = Rat::parse("1").unwrap()
///     + Rat::from_f64_exact(2f64.powi(-24)).unwrap()
///     + Rat::from_f64_exact(2f64.powi(-60)).unwrap();
/// assert_eq!((r.to_f64() as f32), 1.0f32);
/// assert_eq!(rat_to_f32(&r), 1.0f32 + f32::EPSILON);
/// ```
pub fn rat_to_f32(r: &Rat) -> f32 {
    let neg = r.is_negative();
    let limit = Rat::from_f64_exact(2f64.powi(128)).unwrap_or_default()
        - Rat::from_f64_exact(2f64.powi(103)).unwrap_or_default();
    if r.abs() >= limit {
        return if neg {
            f32::NEG_INFINITY
        } else {
            f32::INFINITY
        };
    }
    let approx = r.to_f64() as f32;
    let start = if approx.is_infinite() {
        f32::MAX.copysign(approx)
    } else {
        approx
    };
    let dist = |c: f32| (r - &Rat::from_f64_exact(f64::from(c)).unwrap_or_default()).abs();
    let mut best = start;
    let mut best_d = dist(start);
    for c in [start.next_down(), start.next_up()] {
        if !c.is_finite() {
            continue;
        }
        let d = dist(c);
        if d < best_d || (d == best_d && c.to_bits() & 1 == 0 && best.to_bits() & 1 == 1) {
            best = c;
            best_d = d;
        }
    }
    if best == 0.0 {
        if neg {
            -0.0
        } else {
            0.0
        }
    } else {
        best
    }
}

/// The state-dict tensors of a network: (name, shape, values) in layer order.
fn state_dict(net: &Network) -> Vec<(String, Vec<usize>, Vec<&Rat>)> {
    let q = net.width();
    let mut v = Vec::with_capacity(2 * net.layers.len());
    for (k, l) in net.layers.iter().enumerate() {
        v.push((
            format!("{}.weight", 2 * k),
            vec![q, q],
            l.w.data.iter().collect(),
        ));
        v.push((format!("{}.bias", 2 * k), vec![q], l.b.iter().collect()));
    }
    v
}

fn encode(values: &[&Rat], dtype: ExportDtype) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 8);
    for r in values {
        match dtype {
            ExportDtype::F64 => out.extend_from_slice(&r.to_f64().to_le_bytes()),
            ExportDtype::F32 => out.extend_from_slice(&rat_to_f32(r).to_le_bytes()),
        }
    }
    out
}

/// The safetensors state dict of `net` (see the module doc for the naming), every value
/// correctly rounded from the exact weight (`F32` without double rounding, [`rat_to_f32`]).
/// Metadata: `format` = [`EXPORT_FORMAT`], `hidden_layers`, `width`, `dtype`, `rounding`.
/// A weight too large for the dtype becomes `±∞` ([`export`] refuses such networks).
///
/// Deterministic: the header is written here in a fixed order (metadata, then the tensors
/// in layer order), padded with spaces to a multiple of 8 bytes.
pub fn to_safetensors(net: &Network, dtype: ExportDtype) -> Vec<u8> {
    to_safetensors_with(net, dtype, &[])
}

/// [`to_safetensors`] with extra metadata entries (e.g. `("source", sha256)`), written after
/// the standard ones in the given order; an extra key equal to a standard one, or repeated,
/// is skipped.
pub fn to_safetensors_with(
    net: &Network,
    dtype: ExportDtype,
    extra: &[(String, String)],
) -> Vec<u8> {
    let mut meta: Vec<(String, String)> = vec![
        ("format".into(), EXPORT_FORMAT.into()),
        ("hidden_layers".into(), net.hidden().to_string()),
        ("width".into(), net.width().to_string()),
        ("dtype".into(), dtype.name().into()),
        (
            "rounding".into(),
            "each value is the nearest (ties to even) to the exact rational weight".into(),
        ),
    ];
    for (k, v) in extra {
        if !meta.iter().any(|(m, _)| m == k) {
            meta.push((k.clone(), v.clone()));
        }
    }
    let js = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let mut header = String::from("{\"__metadata__\":{");
    header.push_str(
        &meta
            .iter()
            .map(|(k, v)| format!("{}:{}", js(k), js(v)))
            .collect::<Vec<_>>()
            .join(","),
    );
    header.push('}');
    let mut body = Vec::new();
    for (name, shape, values) in state_dict(net) {
        let start = body.len();
        body.extend(encode(&values, dtype));
        header.push_str(&format!(
            ",{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{start},{}]}}",
            js(&name),
            dtype.name(),
            shape
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(","),
            body.len()
        ));
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + body.len());
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(body);
    out
}

/// The bytes of a `.npy` file (format version 1.0, `'<f8'`, C order) holding `data` with
/// the given `shape`; `None` when `data.len()` is not the product of `shape`.
///
/// The header is the Python dict `{'descr': '<f8', 'fortran_order': False, 'shape': (…), }`
/// padded with spaces and ended by `\n` so that the data starts at a multiple of 64 bytes.
///
/// ```
/// use dlgeom_cert::netio::npy_bytes;
/// let b = npy_bytes(&[2], &[1.0, 0.5]).unwrap();
/// assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
/// assert_eq!(b.len(), 128 + 16); // header padded to 128 bytes, then 2 × 8 data bytes
/// ```
pub fn npy_bytes(shape: &[usize], data: &[f64]) -> Option<Vec<u8>> {
    let n = shape.iter().try_fold(1usize, |a, &x| a.checked_mul(x))?;
    if n != data.len() {
        return None;
    }
    let shape_txt = match shape {
        [] => "()".to_string(),
        [a] => format!("({a},)"),
        s => format!(
            "({})",
            s.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // magic (6) + version (2) + header length (2) + header, ending in '\n', ≡ 0 mod 64.
    let total = (10 + header.len() + 1).next_multiple_of(64);
    let hlen = total - 10;
    if hlen > usize::from(u16::MAX) {
        return None;
    }
    while header.len() + 1 < hlen {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(total + 8 * data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(hlen as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    Some(out)
}

/// Writes one `.npy` array ([`npy_bytes`]) atomically (temporary file + rename; an existing
/// file is replaced). Errors when `data.len()` is not the product of `shape` or on I/O
/// failure.
pub fn write_npy(path: &Path, shape: &[usize], data: &[f64]) -> Result<(), String> {
    let bytes = npy_bytes(shape, data).ok_or_else(|| {
        format!(
            "{}: {} values do not fill the shape {}",
            path.display(),
            data.len(),
            shape_text(shape)
        )
    })?;
    write_atomic(path, &bytes, true)
}

static TMP_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Writes `bytes` to `path` through a temporary file in the same folder, then moves it into
/// place: a rename when `overwrite`, else a hard link, which fails if `path` exists (so an
/// existing file is never clobbered, even by a race).
fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), String> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f =
            fs::File::create(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        drop(f);
        if overwrite {
            fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
        } else {
            match fs::hard_link(&tmp, path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(format!(
                    "{} already exists (use --force to overwrite)",
                    path.display()
                )),
                Err(_) => {
                    // A file system without hard links: check, then rename.
                    if path.exists() {
                        Err(format!(
                            "{} already exists (use --force to overwrite)",
                            path.display()
                        ))
                    } else {
                        fs::rename(&tmp, path)
                            .map_err(|e| format!("cannot write {}: {e}", path.display()))
                    }
                }
            }
        }
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// The paths [`export`] writes for `out`: `(f64 file, f32 file, npy folder)`.
///
/// `weights.safetensors` gives `weights.f32.safetensors` and `weights_npy/` beside it.
pub fn export_paths(out: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "weights".into());
    let dir = out.parent().map(Path::to_path_buf).unwrap_or_default();
    (
        out.to_path_buf(),
        dir.join(format!("{stem}.f32.safetensors")),
        dir.join(format!("{stem}_npy")),
    )
}

/// The `export` command: reads a certificate, a network JSON block (or a `.safetensors`
/// network), and writes
/// - `out`: the state dict in `F64`,
/// - `<stem>.f32.safetensors` beside it: the same in `F32`,
/// - when `npy`: a folder `<stem>_npy/` with `0.weight.npy`, `0.bias.npy`, … (`'<f8'`).
///
/// Metadata: the standard keys of [`to_safetensors`], `source` = SHA-256 (hex) of the input
/// file's bytes, and for a certificate `configuration` (its id) and `data_sha256` (the data
/// file's hash it is bound to). Every file is written atomically; nothing is written when a
/// target exists and `force` is false, or when a weight is too large for `f32`/`f64`.
/// Returns the written paths in order (f64, f32, then the `.npy` files in layer order).
pub fn export(
    cert_or_network_path: &Path,
    out: &Path,
    npy: bool,
    force: bool,
) -> Result<Vec<PathBuf>, String> {
    let input = cert_or_network_path;
    let bytes = fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let (net, info) = if is_safetensors_path(input) {
        (network_from_safetensors(&bytes), None)
    } else {
        // A certificate `verify` wrote holds numbers up to the default certificate limit.
        let limits = ParseLimits {
            max_digits: crate::checker::CertLimits::default().max_digits,
            ..ParseLimits::default()
        };
        match parse_network_json(&bytes, &limits) {
            Ok((n, i)) => (Ok(n), i),
            Err(e) => (Err(e), None),
        }
    };
    let net = net.map_err(|e| format!("{}: {e}", input.display()))?;
    if out.as_os_str().is_empty() || out.is_dir() {
        return Err(format!(
            "--out {} must be a file name such as weights.safetensors, not a folder",
            out.display()
        ));
    }
    // Overflow check before anything is written.
    for (name, _, values) in state_dict(&net) {
        for (i, r) in values.iter().enumerate() {
            if !r.to_f64().is_finite() || !rat_to_f32(r).is_finite() {
                return Err(format!(
                    "tensor \"{name}\", entry {i}: the weight {} is too large for {} \
                     (nothing was written)",
                    shorten(&r.canonical()),
                    if r.to_f64().is_finite() { "f32" } else { "f64" }
                ));
            }
        }
    }
    let (p64, p32, npy_dir) = export_paths(out);
    if p32 == p64 {
        return Err(format!(
            "--out {}: choose a name whose f32 copy differs from it",
            out.display()
        ));
    }
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut extra = vec![("source".to_string(), sha256_hex(&bytes))];
    if let Some(i) = &info {
        if let Some(c) = &i.configuration {
            extra.push(("configuration".into(), c.clone()));
        }
        if let Some(d) = &i.data_sha256 {
            extra.push(("data_sha256".into(), d.clone()));
        }
    }
    files.push((p64, to_safetensors_with(&net, ExportDtype::F64, &extra)));
    files.push((p32, to_safetensors_with(&net, ExportDtype::F32, &extra)));
    if npy {
        for (name, shape, values) in state_dict(&net) {
            let data: Vec<f64> = values.iter().map(|r| r.to_f64()).collect();
            let b = npy_bytes(&shape, &data)
                .ok_or_else(|| format!("internal error: shape of tensor \"{name}\""))?;
            files.push((npy_dir.join(format!("{name}.npy")), b));
        }
    }
    if !force {
        let existing: Vec<String> = files
            .iter()
            .filter(|(p, _)| p.exists())
            .map(|(p, _)| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(format!(
                "refusing to overwrite existing file{} {} (use --force; nothing was written)",
                if existing.len() == 1 { "" } else { "s" },
                existing.join(", ")
            ));
        }
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    if npy {
        fs::create_dir_all(&npy_dir)
            .map_err(|e| format!("cannot create {}: {e}", npy_dir.display()))?;
    }
    let mut written = Vec::with_capacity(files.len());
    for (p, b) in files {
        write_atomic(&p, &b, force)?;
        written.push(p);
    }
    Ok(written)
}
