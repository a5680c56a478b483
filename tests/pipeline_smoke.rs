use dlgeom_cert::data::{DataLimits, Dataset};
use dlgeom_cert::network::Normalisation;
use dlgeom_cert::verify::{run, Options};
use dlgeom_cert::report::{summarise, render};
#[test]
fn smoke() {
    for f in ["examples/two_classes.json","examples/three_classes.json","examples/four_classes.json","examples/xor_not_separable.json","examples/iris3.json"] {
        let Ok(d) = Dataset::load(std::path::Path::new(f), &DataLimits::default()) else { eprintln!("skip {f}"); continue };
        let t = std::time::Instant::now();
        let r = run(&d, &Options{layers: d.q, norm: Normalisation::HalfMean, partition_limit: 5});
        println!("{f} {:?}\n{}", t.elapsed(), render(&summarise(&d, &r)));
    }
}
