//! Tests of `plot` (the SVG pictures of the curation, MATH.md §3–§5): structure of the
//! document (panels, titles, markers, cones, apexes), positions of the curated points,
//! the non-separable note, error cases and determinism.

use dlgeom_cert::arith::Rat;
use dlgeom_cert::data::{Class, DataLimits, Dataset};
use dlgeom_cert::plot::{plot_svg, plot_svg_with, PlotOptions};
use roxmltree::{Document, Node};
use std::path::Path;

fn load(name: &str) -> Dataset {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    Dataset::load(&p, &DataLimits::default()).unwrap()
}

fn has_class(n: &Node, class: &str) -> bool {
    n.attribute("class")
        .is_some_and(|c| c.split_whitespace().any(|w| w == class))
}

/// All `<g>` descendants of `n` (including `n`) carrying `class`.
fn groups<'a, 'i>(n: Node<'a, 'i>, class: &str) -> Vec<Node<'a, 'i>> {
    n.descendants()
        .filter(|d| d.has_tag_name("g") && has_class(d, class))
        .collect()
}

/// The only `<g class=…>` below `n`, or `None`.
fn group<'a, 'i>(n: Node<'a, 'i>, class: &str) -> Option<Node<'a, 'i>> {
    let g = groups(n, class);
    assert!(g.len() <= 1, "more than one group {class}");
    g.into_iter().next()
}

fn elements<'a, 'i>(n: Node<'a, 'i>, tag: &str) -> Vec<Node<'a, 'i>> {
    n.descendants().filter(|d| d.has_tag_name(tag)).collect()
}

fn text_of(n: Node) -> String {
    elements(n, "text")
        .iter()
        .map(|t| t.text().unwrap_or("").trim().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn panels<'a, 'i>(doc: &'a Document<'i>) -> Vec<Node<'a, 'i>> {
    groups(doc.root_element(), "panel")
}

fn centre(c: &Node) -> (i64, i64) {
    (
        c.attribute("cx").unwrap().parse().unwrap(),
        c.attribute("cy").unwrap().parse().unwrap(),
    )
}

/// The centre of a diamond `x,y-5 x+5,y x,y+5 x-5,y`.
fn diamond_centre(p: &Node) -> (i64, i64) {
    let pts: Vec<(i64, i64)> = p
        .attribute("points")
        .unwrap()
        .split_whitespace()
        .map(|s| {
            let (x, y) = s.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    assert_eq!(pts.len(), 4);
    (pts[0].0, pts[1].1)
}

const BLUE: &str = "#1F77B4"; // class a (first palette colour)
const ORANGE: &str = "#FF7F0E"; // class b

#[test]
fn two_classes_panels_titles_markers_cones_apexes() {
    let data = load("two_classes.json");
    let svg = plot_svg(&data, 2).unwrap();
    let doc = Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert!(root.has_tag_name("svg"));
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );

    let ps = panels(&doc);
    assert_eq!(ps.len(), 3, "data + one panel per cone layer");
    let titles: Vec<String> = ps
        .iter()
        .map(|p| text_of(group(*p, "title").unwrap()))
        .collect();
    assert_eq!(
        titles,
        vec![
            "data",
            "layer 1: collapse class a",
            "layer 2: collapse class b"
        ]
    );
    assert_eq!(groups(root, "title").len(), 3);

    for (l, p) in ps.iter().enumerate() {
        assert_eq!(p.attribute("data-layer"), Some(l.to_string().as_str()));
        // one filled marker per input point (6 + 6)
        let inputs = elements(group(*p, "inputs").unwrap(), "circle");
        assert_eq!(inputs.len(), 12, "panel {l}: input markers");
        assert!(inputs.iter().all(|c| c.attribute("fill") != Some("none")));
        assert_eq!(
            inputs
                .iter()
                .filter(|c| c.attribute("fill") == Some(BLUE))
                .count(),
            6
        );
        assert_eq!(
            inputs
                .iter()
                .filter(|c| c.attribute("fill") == Some(ORANGE))
                .count(),
            6
        );
        if l == 0 {
            for g in ["curated", "cones", "apexes", "moves"] {
                assert!(group(*p, g).is_none(), "data panel has no {g}");
            }
            continue;
        }
        // one hollow marker per input point
        let curated = elements(group(*p, "curated").unwrap(), "circle");
        assert_eq!(curated.len(), 12, "panel {l}: curated markers");
        assert!(curated.iter().all(|c| c.attribute("fill") == Some("none")));
        // the two cones, each one polygon
        let cones = group(*p, "cones").unwrap();
        for kind in ["forward", "backward"] {
            let cone: Vec<Node> = groups(cones, kind);
            assert_eq!(cone.len(), 1, "panel {l}: {kind} cone");
            assert_eq!(elements(cone[0], "polygon").len(), 1);
        }
        assert_eq!(elements(cones, "polygon").len(), 2);
        assert_eq!(
            elements(group(cones, "cone-lines").unwrap(), "polyline").len(),
            2,
            "the lines (W x + b)_m = 0, m = 1, 2"
        );
        // layer l collapses one class of 6 points: 6 displacement segments
        assert_eq!(elements(group(*p, "moves").unwrap(), "polyline").len(), 6);
        // apexes a_1..a_l, the last one current
        let apexes = groups(group(*p, "apexes").unwrap(), "apex");
        assert_eq!(apexes.len(), l, "panel {l}: apex markers");
        for (i, a) in apexes.iter().enumerate() {
            assert_eq!(a.attribute("data-apex"), Some((i + 1).to_string().as_str()));
            assert_eq!(has_class(a, "current"), i + 1 == l);
            assert_eq!(elements(*a, "polygon").len(), 1);
        }
    }
    let legend = text_of(group(root, "legend").unwrap());
    assert!(legend.contains("class a") && legend.contains("class b"));
    assert!(legend.contains("forward cone") && legend.contains("backward cone"));
    assert!(group(root, "note").is_none());
}

/// Layer 1 collapses class a onto a₁ and leaves class b in place; layer 2 collapses class b
/// onto a₂ and leaves the curated class a at a₁ (pixel positions of the markers).
#[test]
fn two_classes_curation_positions() {
    let svg = plot_svg(&load("two_classes.json"), 2).unwrap();
    let doc = Document::parse(&svg).unwrap();
    let ps = panels(&doc);
    let by_colour = |g: Node, attr: &str, colour: &str| -> Vec<(i64, i64)> {
        let mut v: Vec<(i64, i64)> = elements(g, "circle")
            .iter()
            .filter(|c| c.attribute(attr) == Some(colour))
            .map(centre)
            .collect();
        v.sort();
        v
    };
    let apex = |p: Node, i: usize| -> (i64, i64) {
        let a = groups(group(p, "apexes").unwrap(), "apex");
        diamond_centre(&elements(a[i], "polygon")[0])
    };
    let a1 = apex(ps[1], 0);
    let a2 = apex(ps[2], 1);
    // panels are 380 px wide, with the same data box
    assert_eq!(
        apex(ps[2], 0),
        (a1.0 + 380, a1.1),
        "a₁ is drawn at the same place in panel 2"
    );
    assert_ne!(a1, a2);

    let inputs_b = by_colour(group(ps[1], "inputs").unwrap(), "fill", ORANGE);
    // layer 1
    let cur = group(ps[1], "curated").unwrap();
    assert_eq!(by_colour(cur, "stroke", BLUE), vec![a1; 6]);
    assert_eq!(by_colour(cur, "stroke", ORANGE), inputs_b);
    // layer 2
    let cur = group(ps[2], "curated").unwrap();
    assert_eq!(by_colour(cur, "stroke", BLUE), vec![apex(ps[2], 0); 6]);
    assert_eq!(by_colour(cur, "stroke", ORANGE), vec![a2; 6]);
}

#[test]
fn three_classes_projection_is_valid_svg() {
    let svg = plot_svg(&load("three_classes.json"), 3).unwrap();
    let doc = Document::parse(&svg).expect("well-formed XML");
    assert!(doc.root_element().has_tag_name("svg"));
    let ps = panels(&doc);
    assert_eq!(ps.len(), 4);
    assert_eq!(
        text_of(group(ps[1], "title").unwrap()),
        "layer 1: collapse class red"
    );
    for (l, p) in ps.iter().enumerate() {
        assert_eq!(elements(group(*p, "inputs").unwrap(), "circle").len(), 15);
        if l > 0 {
            assert_eq!(elements(group(*p, "curated").unwrap(), "circle").len(), 15);
            assert_eq!(groups(group(*p, "apexes").unwrap(), "apex").len(), l);
            assert_eq!(elements(group(*p, "moves").unwrap(), "polyline").len(), 5);
        }
    }
    let view = text_of(group(doc.root_element(), "view").unwrap());
    assert!(
        view.contains("plane through the three class means"),
        "{view}"
    );
}

#[test]
fn not_separable_draws_data_with_note() {
    let svg = plot_svg(&load("xor_not_separable.json"), 2).unwrap();
    let doc = Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert!(root.has_tag_name("svg"));
    let ps = panels(&doc);
    assert_eq!(ps.len(), 1);
    assert_eq!(text_of(group(ps[0], "title").unwrap()), "data");
    assert_eq!(elements(group(ps[0], "inputs").unwrap(), "circle").len(), 4);
    assert!(groups(root, "cones").is_empty());
    assert!(groups(root, "apex").is_empty());
    let note = text_of(group(root, "note").unwrap());
    assert!(note.contains("Not sequentially cone-separable"), "{note}");
}

#[test]
fn deterministic_bytes() {
    for (name, l) in [
        ("two_classes.json", 2),
        ("three_classes.json", 3),
        ("xor_not_separable.json", 2),
    ] {
        let d = load(name);
        assert_eq!(plot_svg(&d, l).unwrap(), plot_svg(&d, l).unwrap(), "{name}");
    }
}

#[test]
fn idle_layers_are_mentioned_not_drawn() {
    let svg = plot_svg(&load("two_classes.json"), 4).unwrap();
    let doc = Document::parse(&svg).unwrap();
    assert_eq!(panels(&doc).len(), 3);
    let legend = text_of(group(doc.root_element(), "legend").unwrap());
    assert!(legend.contains("layers 3–4 idle"), "{legend}");
}

#[test]
fn unsupported_inputs_are_errors() {
    let e = plot_svg(&load("four_classes.json"), 4).unwrap_err();
    assert!(e.contains("Q = 4"), "{e}");
    let one = Dataset::from_classes(vec![Class {
        name: Some("only".into()),
        target: vec![Rat::one()],
        target_given: false,
        inputs: vec![vec![Rat::zero()], vec![Rat::one()]],
    }])
    .unwrap();
    let e = plot_svg(&one, 1).unwrap_err();
    assert!(e.contains("Q = 1"), "{e}");
    let e = plot_svg(&load("three_classes.json"), 2).unwrap_err();
    assert!(e.contains("L = 2"), "{e}");
    let mut small = PlotOptions::new(2);
    small.panel_size = 50;
    assert!(plot_svg_with(&load("two_classes.json"), &small).is_err());
}

#[test]
fn hostile_class_names_stay_valid_xml() {
    let r = |s: &str| Rat::parse(s).unwrap();
    let class = |name: &str, x: [&str; 2], y: [&str; 2]| Class {
        name: Some(name.into()),
        target: vec![r("0"), r("0")],
        target_given: true,
        inputs: vec![vec![r(x[0]), r(x[1])], vec![r(y[0]), r(y[1])]],
    };
    let d = Dataset::from_classes(vec![
        class("<&\"'>\u{1}grp:close\n", ["10", "0"], ["9", "1"]),
        class(
            "\u{1}grp:open:0 and a very long name indeed",
            ["0", "10"],
            ["1", "9"],
        ),
    ])
    .unwrap();
    let svg = plot_svg(&d, 2).unwrap();
    let doc = Document::parse(&svg).expect("well-formed XML");
    assert_eq!(panels(&doc).len(), 3);
    let title = text_of(group(panels(&doc)[1], "title").unwrap());
    assert!(
        title.starts_with("layer 1: collapse class <&\"'>"),
        "{title}"
    );
    assert!(!svg.contains('\u{1}'));
}

#[test]
fn larger_panels_scale_the_document() {
    let d = load("two_classes.json");
    let mut o = PlotOptions::new(2);
    o.panel_size = 500;
    let svg = plot_svg_with(&d, &o).unwrap();
    let doc = Document::parse(&svg).unwrap();
    assert_eq!(doc.root_element().attribute("width"), Some("1500"));
}

/// Writes the pictures of the bundled examples to `$DLGEOM_PLOT_DIR` (default: the system
/// temporary directory) for looking at them: `cargo test --test plot -- --ignored`.
#[test]
#[ignore]
fn write_example_pictures() {
    let dir = std::env::var_os("DLGEOM_PLOT_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    for (name, l) in [
        ("two_classes.json", 2),
        ("three_classes.json", 3),
        ("xor_not_separable.json", 2),
        ("iris3.json", 3),
    ] {
        let svg = plot_svg(&load(name), l).unwrap();
        let out = dir.join(format!("plot_{}.svg", name.trim_end_matches(".json")));
        std::fs::write(&out, svg).unwrap();
        eprintln!("wrote {}", out.display());
    }
}
