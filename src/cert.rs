//! The certificate format `dlgeom-cert/1` (PRODUCT.md, "Certificates").
//!
//! One self-contained JSON document per configuration: the binding to the data (SHA-256 of
//! the file bytes and of the canonical exact form, `Q`, `L`, `N`, every `N_j`, the cost
//! normalisation), the network as canonical exact strings `"p/q"`, the configuration that
//! produced it (curation order, cones, apexes), every claim with its witness values, and a
//! float cross-check block marked non-normative. No timestamps or host names: the same input
//! gives the same bytes.
//!
//! The checker ([`crate::checker`]) reads these structures and recomputes every claim.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The format tag of certificates.
pub const FORMAT: &str = "dlgeom-cert/1";
/// The papers the constructions come from.
pub const SOURCE: &str = "T. Chen, P. Munoz Ewald, arXiv:2309.10639 (constructions); arXiv:2309.10370 (shallow case); arXiv:2405.07098 (truncation map, cumulative parameters)";

/// A certificate for one configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// Always [`FORMAT`].
    pub format: String,
    /// The producing tool.
    pub tool: Tool,
    /// Where the mathematics comes from.
    pub source: String,
    /// Binding to the data.
    pub data: DataBinding,
    /// What was built.
    pub configuration: Configuration,
    /// The network's weights.
    pub network: NetworkRecord,
    /// The claims with their witnesses.
    pub claims: Claims,
    /// Non-normative float cross-check (MATH.md §9).
    pub float_check: FloatRecord,
}

/// Tool name and version.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// `dlgeom-cert`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

/// Binding to the data set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataBinding {
    /// SHA-256 (hex) of the data file bytes.
    pub sha256_bytes: String,
    /// SHA-256 (hex) of the canonical exact form of the data.
    pub sha256_canonical: String,
    /// Number of classes `Q`.
    pub classes: usize,
    /// `N`.
    pub points: usize,
    /// `N_j` for every class.
    pub class_counts: Vec<usize>,
    /// `"1/(2N)"` or `"1/N"`.
    pub normalisation: String,
}

/// One cone layer of the construction (cumulative parameters, MATH.md §4).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConeRecord {
    /// Hidden layer `ℓ` (1-based).
    pub layer: usize,
    /// Classes collapsed at this layer (1-based).
    pub classes: Vec<usize>,
    /// Normal `n`.
    pub normal: Vec<String>,
    /// Offset `β` (`n·a = β`).
    pub beta: String,
    /// Apex `a_ℓ`: `W^{(ℓ)} a_ℓ + b^{(ℓ)} = 0`.
    pub apex: Vec<String>,
    /// `κ`: `W^{(ℓ)} = 𝟙 nᵀ + κ I`.
    pub kappa: String,
}

/// The configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Configuration {
    /// Identifier, e.g. `global`, `partial-S1,3`, `grouped-1+2_3`.
    pub id: String,
    /// `shallow`, `global`, `partial`, `grouped`, or `imported` (a network given to
    /// `certify --network`: nothing constructed, id `imported`, no cones, idle shift `0`).
    pub family: String,
    /// Units collapsed, in collapse order (1-based classes).
    pub collapse_order: Vec<Vec<usize>>,
    /// Classes passing every hidden layer (1-based).
    pub passing: Vec<usize>,
    /// The cone layers.
    pub cones: Vec<ConeRecord>,
    /// The idle-layer shift `s` (`W^{(ℓ)} = I`, `b^{(ℓ)} = s𝟙` after the cones).
    pub idle_shift: String,
}

/// One layer's weights.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerRecord {
    /// `W_ℓ`, rows.
    pub w: Vec<Vec<String>>,
    /// `b_ℓ`.
    pub b: Vec<String>,
}

/// The network: `L` hidden layers then the output layer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkRecord {
    /// `L`.
    pub hidden_layers: usize,
    /// `Q`.
    pub width: usize,
    /// `L + 1` layers.
    pub layers: Vec<LayerRecord>,
}

/// Margin and where it is attained (1-based).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarginRecord {
    /// `min |z^ℓ_m(x)|`.
    pub value: String,
    /// Class.
    pub class: usize,
    /// Point within the class.
    pub point: usize,
    /// Hidden layer.
    pub layer: usize,
    /// Neuron.
    pub neuron: usize,
}

/// One pattern group of the §8 bound.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRecord {
    /// Pattern bits, layer by layer.
    pub pattern: String,
    /// Points in the group.
    pub size: usize,
    /// `affine` or `constant`.
    pub fit: String,
    /// `LB_p`.
    pub bound: String,
}

/// The §8 pattern-region bound.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionRecord {
    /// Groups, lexicographic in pattern.
    pub groups: Vec<GroupRecord>,
    /// `Σ LB_p`.
    pub sum: String,
    /// `C − Σ LB_p`.
    pub gap: String,
    /// `gap = 0`.
    pub certified: bool,
}

/// An explicit flat line `θ + t d` (MATH.md §5).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlatRecord {
    /// `output-layer`: `d` is zero outside the output layer, so `C(θ + t d)` is a polynomial
    /// of degree `≤ 2` in `t` and equality at 3 values of `t` proves it constant.
    /// `pass-through-shift`: `d` shifts `b_1` by `u` and `b_{L+1}` by `−W_{L+1}⋯W_2 u`; with
    /// every pre-activation `> 0` at `θ` and at the two samples `t₋ < 0 < t₊`, the outputs are
    /// unchanged on the whole segment `[t₋, t₊]`.
    pub kind: String,
    /// `d` in parameter order.
    pub direction: Vec<String>,
    /// The sampled `t` values (distinct, nonzero).
    pub samples: Vec<String>,
}

/// Degeneracy (claim C2).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DegeneracyRecord {
    /// `K`.
    pub parameters: usize,
    /// `rank J`.
    pub jacobian_rank: usize,
    /// `K − rank J`, the Hessian kernel dimension (only at zero residual, where the Hessian
    /// is `JᵀJ/N`).
    pub hessian_kernel_dim: Option<usize>,
    /// `L·Q`: the dimensions explained by positive rescaling of hidden neurons.
    pub rescaling_dims: usize,
    /// An explicit flat line, when one was found.
    pub flat_direction: Option<FlatRecord>,
}

/// Exact descent witness: `C(θ + t d) < C(θ)` with a positive margin at `θ + t d`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DescentRecord {
    /// The direction `d`: `"first-layer-bias"` (`d = −∂C/∂b_1`, the first layer's bias block
    /// of `−∇C`, zero elsewhere) or `"gradient"` (`d = −∇C`).
    pub direction: String,
    /// `t > 0`.
    pub step: String,
    /// `C(θ + t d)`.
    pub cost_after: String,
    /// Margin at `θ + t d`.
    pub margin_after: String,
}

/// The claims.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// `global-minimum`, `local-minimum`, `not-a-local-minimum`,
    /// `critical-point-not-certified` or `not-differentiable`.
    pub verdict: String,
    /// The exact cost.
    pub cost: String,
    /// The margin (absent only without hidden layers).
    pub margin: MarginRecord,
    /// `true` iff the exact gradient exists and is zero.
    pub gradient_zero: bool,
    /// The exact gradient when it is not zero.
    pub gradient: Option<Vec<String>>,
    /// For zero-cost configurations: every output equals its target.
    pub outputs_equal_targets: bool,
    /// The §8 bound.
    pub pattern_region: Option<RegionRecord>,
    /// Degeneracy, for certified minima.
    pub degeneracy: Option<DegeneracyRecord>,
    /// Descent witness, for refuted configurations.
    pub descent: Option<DescentRecord>,
    /// Largest bit size of any weight.
    pub max_weight_bits: u64,
}

/// The float cross-check (non-normative: it never decides a claim).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FloatRecord {
    /// Always `true`.
    pub non_normative: bool,
    /// `f64` cost (`null` when not finite).
    pub cost_f64: Option<f64>,
    /// Largest `|∂C/∂θ|` in `f64`.
    pub max_abs_gradient_f64: Option<f64>,
    /// Largest `|f_exact − f_f64|` over all outputs (`null` when not finite).
    pub max_abs_output_error: Option<f64>,
    /// `f64` margin.
    pub margin_f64: Option<f64>,
}

impl Certificate {
    /// Serialize as pretty JSON with a trailing newline (deterministic).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("certificates serialize");
        s.push('\n');
        s
    }
}

/// The JSON Schema of certificates (generated from the types above).
pub fn certificate_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Certificate)).expect("schema serializes")
}

/// The JSON Schema of the `dlgeom-data/1` input format (PRODUCT.md). Numbers are strings
/// (`"-7"`, `"3/4"`, `"0.125"`, `"-1.5e-3"`) or JSON numbers read from their literal text.
pub fn data_schema() -> serde_json::Value {
    let number = serde_json::json!({
        "description": "an exact number: integer, p/q, decimal or scientific notation, as a string or a JSON number (read from its literal text, never through a float)",
        "oneOf": [
            {"type": "string", "pattern": "^[+-]?([0-9]+/[0-9]+|([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?)$"},
            {"type": "number"}
        ]
    });
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dlgeom-data/1",
        "description": "Training data: Q classes, every input and target in Q^Q (Q = number of classes). Duplicate keys are rejected.",
        "type": "object",
        "additionalProperties": false,
        "required": ["classes"],
        "properties": {
            "format": {"const": "dlgeom-data/1"},
            "classes": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["inputs"],
                    "properties": {
                        "name": {"type": "string"},
                        "target": {"type": "array", "items": number.clone(), "description": "Q entries; default one-hot e_j"},
                        "inputs": {"type": "array", "minItems": 1, "items": {"type": "array", "items": number, "description": "Q entries"}}
                    }
                }
            }
        }
    })
}
