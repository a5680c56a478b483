use dlgeom_cert::data::{DataLimits, Dataset};
use dlgeom_cert::plot::plot_svg;
use std::path::Path;

fn load(name: &str) -> Dataset {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name);
    Dataset::load(&p, &DataLimits::default()).unwrap()
}

#[test]
fn dump() {
    for (n, l) in [("two_classes.json", 2), ("three_classes.json", 3), ("xor_not_separable.json", 2), ("iris3.json", 4)] {
        let svg = plot_svg(&load(n), l).unwrap();
        std::fs::write(format!("/tmp/plot_{n}.svg"), svg).unwrap();
    }
}
