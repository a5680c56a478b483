//! Pictures of the paper's "curation" (MATH.md §3–§5): an SVG of the global construction.
//!
//! [`plot_svg`] builds the global minimizer of MATH.md §5 with
//! [`crate::construct::build`] and [`crate::construct::plans::global`] (every class its own
//! unit, collapsed by its own hidden layer, MATH.md §4) and draws, side by side:
//!
//! - a panel **data**: the input points, one colour per class;
//! - one panel per cone layer `ℓ = 1..Q`, titled `layer ℓ: collapse class …`, showing in input
//!   space
//!   - the forward cone `F = {x : W^{(ℓ)}x + b^{(ℓ)} ≥ 0}` (where `τ_{W^{(ℓ)},b^{(ℓ)}}` is
//!     the identity) shaded light green, and the backward cone
//!     `B = {x : W^{(ℓ)}x + b^{(ℓ)} ≤ 0}` (mapped onto the apex) shaded light red, both
//!     clipped to the panel (MATH.md §3), plus the lines `(W^{(ℓ)}x + b^{(ℓ)})_m = 0`
//!     bounding them;
//!   - the input points (filled, faded), the curated points `τ^{(ℓ)}(x)` of every input
//!     (hollow circles, class colour, computed exactly with
//!     [`crate::network::curated_points`]) and a thin segment from `τ^{(ℓ−1)}(x)` to
//!     `τ^{(ℓ)}(x)` for every point that layer `ℓ` moves (decided exactly);
//!   - the apex `a_ℓ` (black diamond) and the earlier apexes `a_1, …, a_{ℓ−1}` (grey
//!     diamonds). One sees class `k_ℓ` collapse onto `a_ℓ` while everything else, including the
//!     earlier apexes, stays put (the "pass" condition of §4).
//!
//! Idle layers `Q+1..L` (MATH.md §5) move nothing and are not drawn (the legend says so).
//!
//! **Views.** For `Q = 2` the panels show input space itself (axes `x₁`, `x₂`, equal scales).
//! For `Q = 3` they show the affine plane through the three class means, with orthonormal
//! axes `s ∥ mean₂ − mean₁` and `t` (the part of `mean₃ − mean₁` orthogonal to `s`), origin at
//! the centroid of the means; inputs, curated points and apexes are orthogonally projected
//! onto it, and the cones are drawn as their exact *sections* by that plane (so a point off
//! the plane can appear slightly outside the section of a cone that contains it). If the
//! means are collinear the missing axes are completed by coordinate axes (Gram–Schmidt on
//! `mean₂ − mean₁, mean₃ − mean₁, e₁, e₂, e₃`). All drawing is in `f64`; the construction
//! itself and the decision which points move are exact.
//!
//! If the data are not sequentially cone-separable, only the data panel is drawn, with a
//! note saying so (still `Ok`). `Q = 1` or `Q > 3`, or fewer hidden layers than classes, is an
//! `Err`.
//!
//! **SVG structure** (stable, used by the tests): the shapes and text are drawn with
//! `plotters` (SVG backend, no font features: text is emitted as `<text>` with
//! `font-family="sans-serif"`, rendered by the viewer; no system fonts are needed to produce
//! it), then grouped by post-processing (marker `<text>` elements emitted between the shapes
//! are replaced by the group tags) into
//! `<g class="panel" data-layer="ℓ">` (`0` for the data panel) containing
//! `<g class="title">`, `<g class="axes">`, and where applicable `<g class="cones">` (one
//! `<polygon>` per non-empty clipped cone, `<g class="cone forward">` /
//! `<g class="cone backward">`, plus `<g class="cone-lines">`), `<g class="moves">`
//! (one `<polyline>` per moved point), `<g class="inputs">` (one `<circle>` per input point),
//! `<g class="curated">` (one hollow `<circle>` per input point), `<g class="apexes">` (one
//! `<g class="apex" data-apex="j">` per apex shown, the apex of the panel's layer also of
//! class `current`); after the panels `<g class="legend">`, for `Q = 3` `<g class="view">`
//! (the projection described in words), and for non-separable data `<g class="note">`.
//! Output is deterministic: the same data give the same bytes.

use crate::arith::Rat;
use crate::construct::{build, plans, BuildError, Construction};
use crate::data::Dataset;
use crate::network::curated_points;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Drawing options for [`plot_svg_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlotOptions {
    /// Hidden layers `L` of the construction (`L ≥ Q`; layers after `Q` are idle).
    pub layers: usize,
    /// Width (and height of the drawing part) of one panel, in pixels (at least 200).
    pub panel_size: u32,
}

impl PlotOptions {
    /// Default sizes for a network with `layers` hidden layers.
    pub fn new(layers: usize) -> PlotOptions {
        PlotOptions {
            layers,
            panel_size: 380,
        }
    }
}

/// The SVG document for `data` and the global construction with `layers` hidden layers
/// (see the module documentation for what is drawn). `Q` must be 2 or 3 and `layers ≥ Q`.
///
/// ```
/// use dlgeom_cert::data::{DataLimits, Dataset};
/// use dlgeom_cert::plot::plot_svg;
/// let text = r#"{"classes": [
///     {"name": "a", "inputs": [["10", "0"], ["9", "1/2"]]},
///     {"name": "b", "inputs": [["0", "10"], ["1/2", "9"]]}]}"#;
/// let d = Dataset::from_json_bytes(text.as_bytes(), &DataLimits::default()).unwrap();
/// let svg = plot_svg(&d, 2).unwrap();
/// assert!(svg.contains("layer 1: collapse class"));
/// ```
pub fn plot_svg(data: &Dataset, layers: usize) -> Result<String, String> {
    plot_svg_with(data, &PlotOptions::new(layers))
}

/// [`plot_svg`] with explicit [`PlotOptions`].
pub fn plot_svg_with(data: &Dataset, opts: &PlotOptions) -> Result<String, String> {
    let q = data.q;
    if !(2..=3).contains(&q) {
        return Err(format!(
            "plot draws data with Q = 2 classes (input space) or Q = 3 (a 2-D projection); \
             this data set has Q = {q}"
        ));
    }
    if opts.layers < q {
        return Err(format!(
            "plot draws the global construction, which needs at least L = Q = {q} hidden \
             layers (one per class); got L = {}",
            opts.layers
        ));
    }
    if opts.panel_size < 200 {
        return Err(format!(
            "panel size {} px is too small (at least 200)",
            opts.panel_size
        ));
    }
    let scene = Scene::new(data, opts.layers)?;
    render(&scene, opts.panel_size)
}

// ---------------------------------------------------------------------------------------
// Geometry (f64, for drawing only)
// ---------------------------------------------------------------------------------------

type P2 = [f64; 2];

/// The half-plane `{p : a·p + c ≥ 0}` of the view plane.
#[derive(Clone, Copy, Debug)]
struct HalfPlane {
    a: P2,
    c: f64,
}

impl HalfPlane {
    fn value(&self, p: P2) -> f64 {
        self.a[0] * p[0] + self.a[1] * p[1] + self.c
    }
    fn flipped(&self) -> HalfPlane {
        HalfPlane {
            a: [-self.a[0], -self.a[1]],
            c: -self.c,
        }
    }
}

/// Sutherland–Hodgman: the convex polygon `poly` cut by one half-plane.
fn clip(poly: &[P2], h: &HalfPlane) -> Vec<P2> {
    let mut out = Vec::with_capacity(poly.len() + 1);
    for i in 0..poly.len() {
        let p = poly[i];
        let n = poly[(i + 1) % poly.len()];
        let (vp, vn) = (h.value(p), h.value(n));
        if vp >= 0.0 {
            out.push(p);
        }
        if (vp >= 0.0) != (vn >= 0.0) {
            let t = vp / (vp - vn);
            out.push([p[0] + t * (n[0] - p[0]), p[1] + t * (n[1] - p[1])]);
        }
    }
    out
}

/// Signed area of a polygon (shoelace).
fn area(poly: &[P2]) -> f64 {
    let mut s = 0.0;
    for i in 0..poly.len() {
        let (p, n) = (poly[i], poly[(i + 1) % poly.len()]);
        s += p[0] * n[1] - n[0] * p[1];
    }
    s / 2.0
}

/// The axis-parallel box `[x0, x1] × [y0, y1]`.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    x: (f64, f64),
    y: (f64, f64),
}

impl Bounds {
    fn polygon(&self) -> Vec<P2> {
        vec![
            [self.x.0, self.y.0],
            [self.x.1, self.y.0],
            [self.x.1, self.y.1],
            [self.x.0, self.y.1],
        ]
    }

    /// The intersection of the box with all half-planes (`None` if it has no area).
    fn cut(&self, hs: &[HalfPlane]) -> Option<Vec<P2>> {
        let mut poly = self.polygon();
        for h in hs {
            poly = clip(&poly, h);
            if poly.len() < 3 {
                return None;
            }
        }
        let span = (self.x.1 - self.x.0) * (self.y.1 - self.y.0);
        (area(&poly).abs() > 1e-9 * span).then_some(poly)
    }

    /// The part of the line `{p : h.value(p) = 0}` inside the box (Liang–Barsky).
    fn line(&self, h: &HalfPlane) -> Option<(P2, P2)> {
        let nn = h.a[0] * h.a[0] + h.a[1] * h.a[1];
        if nn == 0.0 || !nn.is_finite() {
            return None;
        }
        let p0 = [-h.c * h.a[0] / nn, -h.c * h.a[1] / nn];
        let d = [-h.a[1], h.a[0]];
        let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
        for (k, (min, max)) in [self.x, self.y].into_iter().enumerate() {
            if d[k] == 0.0 {
                if p0[k] < min || p0[k] > max {
                    return None;
                }
            } else {
                let (t1, t2) = ((min - p0[k]) / d[k], (max - p0[k]) / d[k]);
                lo = lo.max(t1.min(t2));
                hi = hi.min(t1.max(t2));
            }
        }
        (lo < hi).then(|| {
            (
                [p0[0] + lo * d[0], p0[1] + lo * d[1]],
                [p0[0] + hi * d[0], p0[1] + hi * d[1]],
            )
        })
    }
}

/// The 2-D view: `p ↦ (u₁·(p − o), u₂·(p − o))` with orthonormal `u₁, u₂`.
#[derive(Clone, Debug)]
struct View {
    origin: Vec<f64>,
    basis: [Vec<f64>; 2],
    axes: [&'static str; 2],
    /// A sentence for the legend (`None` for input space itself).
    description: Option<String>,
}

fn dotf(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl View {
    fn identity2() -> View {
        View {
            origin: vec![0.0, 0.0],
            basis: [vec![1.0, 0.0], vec![0.0, 1.0]],
            axes: ["x₁", "x₂"],
            description: None,
        }
    }

    /// The plane through the three class means (see the module documentation).
    fn means_plane(means: &[Vec<f64>]) -> View {
        let d = means[0].len();
        let origin: Vec<f64> = (0..d)
            .map(|i| means.iter().map(|m| m[i]).sum::<f64>() / means.len() as f64)
            .collect();
        let scale = means.iter().flatten().fold(1.0f64, |s, x| s.max(x.abs()));
        let mut candidates: Vec<Vec<f64>> = means[1..]
            .iter()
            .map(|m| m.iter().zip(&means[0]).map(|(x, y)| x - y).collect())
            .collect();
        candidates.extend((0..d).map(|i| (0..d).map(|j| f64::from(u8::from(i == j))).collect()));
        let mut basis: Vec<Vec<f64>> = Vec::new();
        for c in candidates {
            let mut v = c;
            for b in &basis {
                let t = dotf(&v, b);
                v.iter_mut().zip(b).for_each(|(x, y)| *x -= t * y);
            }
            let norm = dotf(&v, &v).sqrt();
            // relative threshold: coordinate axes have norm 1, differences scale like `scale`
            if norm > 1e-9 * scale.max(1.0) && norm > 1e-12 {
                basis.push(v.iter().map(|x| x / norm).collect());
                if basis.len() == 2 {
                    break;
                }
            }
        }
        let u2 = basis.pop().expect("two basis vectors");
        let u1 = basis.pop().expect("two basis vectors");
        View {
            origin,
            basis: [u1, u2],
            axes: ["s", "t"],
            description: Some(
                "View: the plane through the three class means (axes s ∥ mean₂ − mean₁, t ⟂ s); \
                 points and apexes projected orthogonally onto it, cones drawn as their \
                 sections by this plane."
                    .to_string(),
            ),
        }
    }

    fn project(&self, p: &[f64]) -> P2 {
        let rel: Vec<f64> = p.iter().zip(&self.origin).map(|(x, o)| x - o).collect();
        [dotf(&rel, &self.basis[0]), dotf(&rel, &self.basis[1])]
    }

    fn project_rat(&self, p: &[Rat]) -> P2 {
        self.project(&p.iter().map(Rat::to_f64).collect::<Vec<_>>())
    }

    /// `{(s, t) : w·(o + s u₁ + t u₂) + b ≥ 0}`.
    fn half_plane(&self, w: &[f64], b: f64) -> HalfPlane {
        HalfPlane {
            a: [dotf(w, &self.basis[0]), dotf(w, &self.basis[1])],
            c: dotf(w, &self.origin) + b,
        }
    }
}

// ---------------------------------------------------------------------------------------
// What is drawn
// ---------------------------------------------------------------------------------------

/// One cone layer `ℓ`.
struct LayerScene {
    /// The class collapsed (0-based).
    class: usize,
    /// `(W^{(ℓ)}x + b^{(ℓ)})_m ≥ 0`, `m = 1..Q`, in view coordinates.
    forward: Vec<HalfPlane>,
    /// Apexes `a_1..a_ℓ` (view coordinates).
    apexes: Vec<P2>,
    /// `τ^{(ℓ)}(x)` per class, per point.
    curated: Vec<Vec<P2>>,
    /// `(class, τ^{(ℓ−1)}(x), τ^{(ℓ)}(x))` for the points layer `ℓ` moves.
    moves: Vec<(usize, P2, P2)>,
}

struct Scene {
    names: Vec<String>,
    colours: Vec<RGBColor>,
    inputs: Vec<Vec<P2>>,
    layers: Vec<LayerScene>,
    view: View,
    /// Idle layers `Q+1..L` (not drawn), when there are any: `(Q + 1, L)`.
    idle: Option<(usize, usize)>,
    note: Option<String>,
    bounds: Bounds,
}

const MAX_NAME: usize = 24;

/// A class name fit for a label: control characters replaced, long names shortened.
fn display_name(data: &Dataset, j: usize) -> String {
    let raw = data.classes[j]
        .name
        .clone()
        .unwrap_or_else(|| format!("{}", j + 1));
    let clean: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim().to_string();
    if clean.is_empty() {
        return format!("{}", j + 1);
    }
    if clean.chars().count() > MAX_NAME {
        let mut s: String = clean.chars().take(MAX_NAME - 1).collect();
        s.push('…');
        s
    } else {
        clean
    }
}

/// Class colours: a class named like a common colour gets that colour, the others the first
/// unused colours of a fixed palette (Tableau 10).
fn class_colours(names: &[String]) -> Vec<RGBColor> {
    const NAMED: [(&str, RGBColor); 11] = [
        ("blue", RGBColor(0x1F, 0x77, 0xB4)),
        ("orange", RGBColor(0xFF, 0x7F, 0x0E)),
        ("green", RGBColor(0x2C, 0xA0, 0x2C)),
        ("red", RGBColor(0xD6, 0x27, 0x28)),
        ("purple", RGBColor(0x94, 0x67, 0xBD)),
        ("brown", RGBColor(0x8C, 0x56, 0x4B)),
        ("pink", RGBColor(0xE3, 0x77, 0xC2)),
        ("gray", RGBColor(0x7F, 0x7F, 0x7F)),
        ("olive", RGBColor(0xBC, 0xBD, 0x22)),
        ("cyan", RGBColor(0x17, 0xBE, 0xCF)),
        ("grey", RGBColor(0x7F, 0x7F, 0x7F)),
    ];
    let mut out: Vec<Option<RGBColor>> = names
        .iter()
        .map(|n| {
            NAMED
                .iter()
                .find(|(k, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, c)| *c)
        })
        .collect();
    // a colour name used twice: keep only the first
    for i in 0..out.len() {
        if out[i].is_some() && out[..i].contains(&out[i]) {
            out[i] = None;
        }
    }
    let mut palette = NAMED[..10].iter().map(|(_, c)| *c);
    for i in 0..out.len() {
        if out[i].is_none() {
            out[i] = palette.find(|c| !out.contains(&Some(*c)));
        }
    }
    out.into_iter()
        .map(|c| c.unwrap_or(RGBColor(0, 0, 0)))
        .collect()
}

impl Scene {
    fn new(data: &Dataset, layers: usize) -> Result<Scene, String> {
        let q = data.q;
        let names: Vec<String> = (0..q).map(|j| display_name(data, j)).collect();
        let colours = class_colours(&names);
        let view = if q == 2 {
            View::identity2()
        } else {
            let means: Vec<Vec<f64>> = data
                .class_stats()
                .iter()
                .map(|s| {
                    let n = Rat::from_i64(s.count as i64);
                    s.sum.iter().map(|x| (x / &n).to_f64()).collect()
                })
                .collect();
            View::means_plane(&means)
        };
        let inputs: Vec<Vec<P2>> = data
            .classes
            .iter()
            .map(|c| c.inputs.iter().map(|x| view.project_rat(x)).collect())
            .collect();

        let mut note = None;
        let mut layer_scenes = Vec::new();
        match build(data, layers, &plans::global(q)) {
            Ok(con) => layer_scenes = layer_scenes_of(data, &con, &view)?,
            Err(BuildError::NotSeparable { failure: f, .. }) => {
                let remaining: Vec<String> = f
                    .remaining
                    .iter()
                    .map(|&k| format!("“{}”", names[k]))
                    .collect();
                note = Some(format!(
                    "Not sequentially cone-separable (MATH.md §4): at step {} none of the \
                     classes {} can be strictly separated from the rest, so there is no global \
                     construction to draw; only the data are shown.",
                    f.step,
                    remaining.join(", ")
                ));
            }
            Err(BuildError::TooFewLayers { units, layers }) => {
                return Err(format!(
                    "the global construction needs {units} hidden layers, got {layers}"
                ))
            }
            Err(BuildError::Singular) => {
                return Err("construction defect: a cumulative hidden map is singular".to_string())
            }
        }

        let mut all: Vec<P2> = inputs.iter().flatten().copied().collect();
        for l in &layer_scenes {
            all.extend(l.apexes.iter().copied());
            all.extend(l.curated.iter().flatten().copied());
        }
        let bounds = padded_bounds(&all);
        Ok(Scene {
            names,
            colours,
            inputs,
            idle: (layer_scenes.len() == q && layers > q).then_some((q + 1, layers)),
            layers: layer_scenes,
            view,
            note,
            bounds,
        })
    }
}

fn layer_scenes_of(
    data: &Dataset,
    con: &Construction,
    view: &View,
) -> Result<Vec<LayerScene>, String> {
    // exact curated points of every input: per class, per point, τ^{(0..L)}
    let curated: Vec<Vec<Vec<Vec<Rat>>>> = data
        .classes
        .iter()
        .map(|c| {
            c.inputs
                .iter()
                .map(|x| curated_points(&con.network, x))
                .collect::<Option<Vec<_>>>()
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("construction defect: a cumulative hidden map is singular")?;
    let mut out = Vec::new();
    for (i, cone) in con.cones.iter().enumerate() {
        let l = i + 1;
        let class = *con.plan.units[cone.unit]
            .first()
            .ok_or("construction defect: empty unit")?;
        let forward = (0..cone.w.rows)
            .map(|m| {
                let row: Vec<f64> = cone.w.row(m).iter().map(Rat::to_f64).collect();
                view.half_plane(&row, cone.b[m].to_f64())
            })
            .collect();
        let apexes = con.cones[..=i]
            .iter()
            .map(|c| view.project_rat(&c.apex))
            .collect();
        let mut moves = Vec::new();
        let mut cur = Vec::new();
        for (j, class_pts) in curated.iter().enumerate() {
            let mut pts = Vec::new();
            for taus in class_pts {
                let p = view.project_rat(&taus[l]);
                if taus[l] != taus[l - 1] {
                    moves.push((j, view.project_rat(&taus[l - 1]), p));
                }
                pts.push(p);
            }
            cur.push(pts);
        }
        out.push(LayerScene {
            class,
            forward,
            apexes,
            curated: cur,
            moves,
        });
    }
    Ok(out)
}

/// The bounding box of `pts`, padded by 10 % of its larger side (at least 1 in total).
fn padded_bounds(pts: &[P2]) -> Bounds {
    let fin = pts.iter().filter(|p| p[0].is_finite() && p[1].is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in fin {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (-1.0, 1.0, -1.0, 1.0);
    }
    let span = (x1 - x0).max(y1 - y0).max(1e-9);
    let pad = (0.1 * span).max(0.5 - span / 2.0).max(0.0);
    Bounds {
        x: (x0 - pad, x1 + pad),
        y: (y0 - pad, y1 + pad),
    }
}

/// Widen `b` around its centre so that one unit has the same length on both axes in a plot
/// area of `w × h` pixels.
fn equal_aspect(b: Bounds, w: u32, h: u32) -> Bounds {
    let (sx, sy) = (b.x.1 - b.x.0, b.y.1 - b.y.0);
    let per_px = (sx / f64::from(w)).max(sy / f64::from(h));
    let (cx, cy) = ((b.x.0 + b.x.1) / 2.0, (b.y.0 + b.y.1) / 2.0);
    let (hx, hy) = (per_px * f64::from(w) / 2.0, per_px * f64::from(h) / 2.0);
    Bounds {
        x: (cx - hx, cx + hx),
        y: (cy - hy, cy + hy),
    }
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

const TITLE_H: u32 = 30;
const MARGIN: u32 = 10;
const X_LABEL: u32 = 34;
const Y_LABEL: u32 = 46;
const LEGEND_ROW: u32 = 20;
const LEGEND_FONT: f64 = 12.0;
/// A rough average glyph width of a 12 px sans-serif font (for laying out the legend only).
const CHAR_W: f64 = 6.2;

const FORWARD: RGBColor = RGBColor(0x74, 0xC4, 0x76);
const BACKWARD: RGBColor = RGBColor(0xFB, 0x6A, 0x4A);
const LINES: RGBColor = RGBColor(0x88, 0x88, 0x88);
const EARLIER: RGBColor = RGBColor(0x99, 0x99, 0x99);

/// The start of every group sentinel: a control character never present in the drawn
/// text (user text is cleaned of control characters), so the sentinels are unambiguous.
const SENTINEL: &str = "\u{1}grp:";

fn de<E: std::fmt::Debug>(e: E) -> String {
    format!("drawing the plot failed: {e:?}")
}

/// Emits group sentinels through the backend, in drawing order.
struct Groups {
    opens: Vec<String>,
}

impl Groups {
    fn open(&mut self, root: &DrawingArea<SVGBackend, Shift>, attrs: &str) -> Result<(), String> {
        let id = self.opens.len();
        self.opens.push(format!("<g {attrs}>"));
        sentinel(root, &format!("{SENTINEL}open:{id}"))
    }
    fn close(&self, root: &DrawingArea<SVGBackend, Shift>) -> Result<(), String> {
        sentinel(root, &format!("{SENTINEL}close"))
    }
}

fn sentinel(root: &DrawingArea<SVGBackend, Shift>, text: &str) -> Result<(), String> {
    root.draw(&Text::new(
        text.to_string(),
        (0, 0),
        ("sans-serif", 1).into_font().color(&BLACK),
    ))
    .map_err(de)
}

/// Replace the sentinel `<text>` elements (three lines each) by `<g …>` / `</g>`.
fn resolve_groups(svg: &str, groups: &Groups) -> Result<String, String> {
    let lines: Vec<&str> = svg.lines().collect();
    let mut out = String::with_capacity(svg.len());
    let mut depth = 0usize;
    let mut i = 0;
    while i < lines.len() {
        let next = lines.get(i + 1).copied().unwrap_or("");
        if lines[i].starts_with("<text") && next.starts_with(SENTINEL) {
            let tag = &next[SENTINEL.len()..];
            if let Some(id) = tag.strip_prefix("open:") {
                let id: usize = id.parse().map_err(de)?;
                out.push_str(&groups.opens[id]);
                depth += 1;
            } else {
                depth = depth.checked_sub(1).ok_or("unbalanced plot groups")?;
                out.push_str("</g>");
            }
            out.push('\n');
            i += 3; // <text …>, sentinel, </text>
            continue;
        }
        if lines[i].starts_with("<text") {
            out.push_str(&round_font_size(lines[i]));
        } else {
            out.push_str(lines[i]);
        }
        out.push('\n');
        i += 1;
    }
    if depth != 0 || out.contains(SENTINEL) {
        return Err("unbalanced plot groups".to_string());
    }
    Ok(out)
}

/// plotters' SVG backend writes `font-size = size / 1.24`; undo that so `size` is the size in
/// pixels (the written value is rounded in [`resolve_groups`]).
const FONT_SCALE: f64 = 1.24;

fn font(size: f64) -> FontDesc<'static> {
    ("sans-serif", size * FONT_SCALE).into_font()
}

/// `font-size="12.000000000000002"` → `font-size="12"` (two decimals at most).
fn round_font_size(line: &str) -> String {
    const KEY: &str = "font-size=\"";
    let Some(start) = line.find(KEY).map(|i| i + KEY.len()) else {
        return line.to_string();
    };
    let Some(len) = line[start..].find('"') else {
        return line.to_string();
    };
    match line[start..start + len].parse::<f64>() {
        Ok(v) => format!(
            "{}{}{}",
            &line[..start],
            (v * 100.0).round() / 100.0,
            &line[start + len..]
        ),
        Err(_) => line.to_string(),
    }
}

fn text_style(size: f64, colour: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    font(size).into_font().color(colour).pos(Pos::new(h, v))
}

fn render(scene: &Scene, panel: u32) -> Result<String, String> {
    let n_panels = 1 + scene.layers.len();
    let width = panel * n_panels as u32;
    let legend = legend_items(scene);
    let legend_lines = layout_legend(&legend, width);
    let cols = ((f64::from(width) - 28.0) / CHAR_W) as usize;
    let view_lines: Vec<String> = scene
        .view
        .description
        .iter()
        .flat_map(|t| wrap(t, cols))
        .collect();
    let note_lines: Vec<String> = scene.note.iter().flat_map(|t| wrap(t, cols)).collect();
    let text_rows = legend_lines.len() + view_lines.len() + note_lines.len();
    let legend_h = 10 + LEGEND_ROW * text_rows as u32 + 6;
    let panel_h = TITLE_H + panel;
    let height = panel_h + legend_h;

    // plot area of every panel, in pixels, and the common data box with equal scales
    let plot_w = panel - 2 * MARGIN - Y_LABEL;
    let plot_h = panel - 2 * MARGIN - X_LABEL;
    let bounds = equal_aspect(scene.bounds, plot_w, plot_h);

    let mut groups = Groups { opens: Vec::new() };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(de)?;
        let (top, bottom) = root.split_vertically(panel_h);
        let areas = top.split_evenly((1, n_panels));
        for (p, area) in areas.iter().enumerate() {
            let layer = if p == 0 {
                None
            } else {
                Some(&scene.layers[p - 1])
            };
            groups.open(
                &root,
                &format!("class=\"panel\" id=\"panel-{p}\" data-layer=\"{p}\""),
            )?;
            draw_panel(&root, area, scene, layer, p, bounds, &mut groups)?;
            groups.close(&root)?;
        }
        draw_legend(
            &root,
            &bottom,
            scene,
            &legend_lines,
            &view_lines,
            &note_lines,
            &mut groups,
        )?;
        root.present().map_err(de)?;
    }
    let body = resolve_groups(&svg, &groups)?;
    Ok(body)
}

#[allow(clippy::too_many_arguments)]
fn draw_panel(
    root: &DrawingArea<SVGBackend, Shift>,
    area: &DrawingArea<SVGBackend, Shift>,
    scene: &Scene,
    layer: Option<&LayerScene>,
    index: usize,
    bounds: Bounds,
    groups: &mut Groups,
) -> Result<(), String> {
    let (title_area, body) = area.split_vertically(TITLE_H);
    let title = match layer {
        None => "data".to_string(),
        Some(l) => format!("layer {index}: collapse class {}", scene.names[l.class]),
    };
    groups.open(root, "class=\"title\"")?;
    let (tw, _) = title_area.dim_in_pixel();
    title_area
        .draw(&Text::new(
            title,
            ((tw / 2) as i32, 8),
            text_style(15.0, &BLACK, HPos::Center, VPos::Top),
        ))
        .map_err(de)?;
    groups.close(root)?;

    groups.open(root, "class=\"axes\"")?;
    let mut chart = ChartBuilder::on(&body)
        .margin(MARGIN)
        .x_label_area_size(X_LABEL)
        .y_label_area_size(Y_LABEL)
        .build_cartesian_2d(bounds.x.0..bounds.x.1, bounds.y.0..bounds.y.1)
        .map_err(de)?;
    let fmt = |v: &f64| {
        let r = (v * 1000.0).round() / 1000.0;
        format!("{}", if r == 0.0 { 0.0 } else { r })
    };
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .x_desc(scene.view.axes[0])
        .y_desc(scene.view.axes[1])
        .label_style(font(11.0))
        .axis_desc_style(font(13.0))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
        .draw()
        .map_err(de)?;
    groups.close(root)?;

    let to_px = |p: P2| chart.backend_coord(&(p[0], p[1]));

    if let Some(l) = layer {
        // cones: forward F (all ≥ 0) and backward B (all ≤ 0), clipped to the box
        groups.open(root, "class=\"cones\"")?;
        let backward: Vec<HalfPlane> = l.forward.iter().map(HalfPlane::flipped).collect();
        for (kind, hs, colour, alpha) in [
            ("forward", &l.forward, FORWARD, 0.22),
            ("backward", &backward, BACKWARD, 0.22),
        ] {
            if let Some(poly) = bounds.cut(hs) {
                groups.open(root, &format!("class=\"cone {kind}\""))?;
                let pts: Vec<(i32, i32)> = poly.iter().map(|&p| to_px(p)).collect();
                root.draw(&Polygon::new(pts, colour.mix(alpha).filled()))
                    .map_err(de)?;
                groups.close(root)?;
            }
        }
        groups.open(root, "class=\"cone-lines\"")?;
        for h in &l.forward {
            if let Some((a, b)) = bounds.line(h) {
                root.draw(&PathElement::new(
                    vec![to_px(a), to_px(b)],
                    LINES.stroke_width(1),
                ))
                .map_err(de)?;
            }
        }
        groups.close(root)?;
        groups.close(root)?;

        groups.open(root, "class=\"moves\"")?;
        for &(j, from, to) in &l.moves {
            root.draw(&PathElement::new(
                vec![to_px(from), to_px(to)],
                scene.colours[j].mix(0.45).stroke_width(1),
            ))
            .map_err(de)?;
        }
        groups.close(root)?;
    }

    groups.open(root, "class=\"inputs\"")?;
    let input_alpha = if layer.is_some() { 0.35 } else { 0.85 };
    for (j, pts) in scene.inputs.iter().enumerate() {
        for &p in pts {
            root.draw(&Circle::new(
                to_px(p),
                4,
                scene.colours[j].mix(input_alpha).filled(),
            ))
            .map_err(de)?;
        }
    }
    groups.close(root)?;

    if let Some(l) = layer {
        groups.open(root, "class=\"curated\"")?;
        for (j, pts) in l.curated.iter().enumerate() {
            for &p in pts {
                root.draw(&Circle::new(to_px(p), 7, scene.colours[j].stroke_width(2)))
                    .map_err(de)?;
            }
        }
        groups.close(root)?;

        groups.open(root, "class=\"apexes\"")?;
        let last = l.apexes.len();
        for (i, &a) in l.apexes.iter().enumerate() {
            let current = i + 1 == last;
            let colour = if current { BLACK } else { EARLIER };
            groups.open(
                root,
                &format!(
                    "class=\"apex{}\" data-apex=\"{}\"",
                    if current { " current" } else { "" },
                    i + 1
                ),
            )?;
            let (x, y) = to_px(a);
            root.draw(&Polygon::new(
                vec![(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)],
                colour.filled(),
            ))
            .map_err(de)?;
            root.draw(&Text::new(
                format!("a{}", subscript(i + 1)),
                (x + 8, y - 6),
                text_style(13.0, &colour, HPos::Left, VPos::Bottom),
            ))
            .map_err(de)?;
            groups.close(root)?;
        }
        groups.close(root)?;
    }
    Ok(())
}

fn subscript(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '0' => '₀',
            '1' => '₁',
            '2' => '₂',
            '3' => '₃',
            '4' => '₄',
            '5' => '₅',
            '6' => '₆',
            '7' => '₇',
            '8' => '₈',
            _ => '₉',
        })
        .collect()
}

/// A legend entry: a symbol and its label.
enum Symbol {
    Filled(RGBColor),
    Hollow,
    Apex(RGBColor),
    Swatch(RGBColor),
    /// No symbol (a plain remark).
    Blank,
}

/// A legend entry; `row_start` forces a new row (classes and markers, then the cones).
struct Item {
    symbol: Symbol,
    label: String,
    row_start: bool,
}

fn item(symbol: Symbol, label: impl Into<String>, row_start: bool) -> Item {
    Item {
        symbol,
        label: label.into(),
        row_start,
    }
}

fn legend_items(scene: &Scene) -> Vec<Item> {
    let mut items: Vec<Item> = scene
        .names
        .iter()
        .zip(&scene.colours)
        .map(|(n, c)| item(Symbol::Filled(*c), format!("class {n}"), false))
        .collect();
    if !scene.layers.is_empty() {
        items.push(item(Symbol::Hollow, "curated point τ⁽ˡ⁾(x)", false));
        items.push(item(Symbol::Apex(BLACK), "apex of this layer", false));
        items.push(item(Symbol::Apex(EARLIER), "earlier apexes", false));
        items.push(item(
            Symbol::Swatch(FORWARD),
            "forward cone W⁽ˡ⁾x + b⁽ˡ⁾ ≥ 0 (τ = id there)",
            true,
        ));
        items.push(item(
            Symbol::Swatch(BACKWARD),
            "backward cone W⁽ˡ⁾x + b⁽ˡ⁾ ≤ 0 (τ = apex there)",
            false,
        ));
        if let Some((a, b)) = scene.idle {
            let which = if a == b {
                format!("layer {a} idle")
            } else {
                format!("layers {a}–{b} idle")
            };
            items.push(item(
                Symbol::Blank,
                format!("{which}: nothing moves, not drawn"),
                false,
            ));
        }
    }
    items
}

fn item_width(label: &str) -> f64 {
    18.0 + CHAR_W * label.chars().count() as f64 + 22.0
}

/// Flow layout: rows of item indices fitting into `width`.
fn layout_legend(items: &[Item], width: u32) -> Vec<Vec<usize>> {
    let avail = f64::from(width) - 20.0;
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut used = f64::INFINITY;
    for (i, it) in items.iter().enumerate() {
        let w = item_width(&it.label);
        if it.row_start || used + w > avail {
            rows.push(Vec::new());
            used = 0.0;
        }
        rows.last_mut().expect("a row").push(i);
        used += w;
    }
    rows
}

/// Greedy word wrap to at most `cols` characters per line.
fn wrap(text: &str, cols: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > cols.max(10) {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

fn draw_legend(
    root: &DrawingArea<SVGBackend, Shift>,
    area: &DrawingArea<SVGBackend, Shift>,
    scene: &Scene,
    rows: &[Vec<usize>],
    view_lines: &[String],
    note_lines: &[String],
    groups: &mut Groups,
) -> Result<(), String> {
    let items = legend_items(scene);
    groups.open(root, "class=\"legend\"")?;
    let mut y = 10 + (LEGEND_ROW / 2) as i32;
    for row in rows {
        let mut x = 14.0f64;
        for &i in row {
            let Item { symbol, label, .. } = &items[i];
            let cx = x as i32 + 6;
            match symbol {
                Symbol::Filled(c) => area.draw(&Circle::new((cx, y), 4, c.mix(0.85).filled())),
                Symbol::Hollow => area.draw(&Circle::new((cx, y), 6, BLACK.stroke_width(2))),
                Symbol::Apex(c) => area.draw(&Polygon::new(
                    vec![(cx, y - 5), (cx + 5, y), (cx, y + 5), (cx - 5, y)],
                    c.filled(),
                )),
                Symbol::Swatch(c) => area.draw(&Rectangle::new(
                    [(cx - 6, y - 6), (cx + 6, y + 6)],
                    c.mix(0.35).filled(),
                )),
                Symbol::Blank => Ok(()),
            }
            .map_err(de)?;
            area.draw(&Text::new(
                label.clone(),
                (x as i32 + 18, y),
                text_style(LEGEND_FONT, &BLACK, HPos::Left, VPos::Center),
            ))
            .map_err(de)?;
            x += item_width(label);
        }
        y += LEGEND_ROW as i32;
    }
    groups.close(root)?;
    for (class, colour, lines) in [
        ("view", BLACK, view_lines),
        ("note", RGBColor(0xB0, 0x00, 0x00), note_lines),
    ] {
        if lines.is_empty() {
            continue;
        }
        groups.open(root, &format!("class=\"{class}\""))?;
        for line in lines {
            area.draw(&Text::new(
                line.clone(),
                (14, y),
                text_style(LEGEND_FONT, &colour, HPos::Left, VPos::Center),
            ))
            .map_err(de)?;
            y += LEGEND_ROW as i32;
        }
        groups.close(root)?;
    }
    Ok(())
}
