//! End-to-end checks of rendered charts: where pixels land, what the PNG decodes to, and how
//! saving fails.

use std::io::Cursor;
use std::path::PathBuf;

use retort_plot::{Chart, Layout, PlotError, Rgb, Series, PALETTE};

/// The colour at `(x, y)` of an RGB buffer `width` pixels wide.
fn pixel(pixels: &[u8], width: u32, x: i32, y: i32) -> Rgb {
    let i = (y as usize * width as usize + x as usize) * 3;
    Rgb(pixels[i], pixels[i + 1], pixels[i + 2])
}

/// Every `(x, y)` whose colour is `c`.
fn pixels_of(pixels: &[u8], width: u32, c: Rgb) -> Vec<(i32, i32)> {
    pixels
        .chunks_exact(3)
        .enumerate()
        .filter(|(_, p)| *p == [c.0, c.1, c.2])
        .map(|(i, _)| ((i % width as usize) as i32, (i / width as usize) as i32))
        .collect()
}

/// A fresh, empty directory under the system temp dir, unique to this process and test.
fn scratch_dir(name: &str) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("retort-plot-test-{}-{name}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn px(layout: &Layout, x: f64, y: f64) -> (i32, i32) {
    let x = layout.x_px(x).expect("x on axis").round() as i32;
    let y = layout.y_px(y).expect("y on axis").round() as i32;
    (x, y)
}

#[test]
fn horizontal_line_draws_its_colour_in_the_expected_row_band() {
    // No label, so no legend to confuse the colour search.
    let chart = Chart::new("flat", "x", "y")
        .with_size(400, 300)
        .with_series(Series::new("", vec![(0.0, 5.0), (10.0, 5.0)]));
    let layout = chart.layout();
    let pixels = chart.render();
    assert_eq!(pixels.len(), 400 * 300 * 3);

    let (_, row) = px(&layout, 5.0, 5.0);
    let mid_x = layout.plot.x + layout.plot.w / 2;
    assert_eq!(
        pixel(&pixels, 400, mid_x, row),
        PALETTE[0],
        "line passes through its row"
    );
    assert_ne!(pixel(&pixels, 400, mid_x, row - 6), PALETTE[0]);
    assert_ne!(pixel(&pixels, 400, mid_x, row + 6), PALETTE[0]);

    let coloured = pixels_of(&pixels, 400, PALETTE[0]);
    assert!(
        coloured.len() > layout.plot.w as usize,
        "the line spans the plot"
    );
    for (x, y) in coloured {
        // Within a marker radius of the line, and never outside the plot area.
        assert!(
            (y - row).abs() <= 4,
            "stray series pixel at ({x}, {y}), line at {row}"
        );
        assert!(
            layout.plot.contains(x, y),
            "series pixel outside the plot at ({x}, {y})"
        );
    }
}

#[test]
fn series_take_successive_palette_colours() {
    let chart = Chart::new("two", "", "")
        .with_size(300, 200)
        .with_series(Series::new("", vec![(0.0, 0.0), (1.0, 0.0)]))
        .with_series(Series::new("", vec![(0.0, 1.0), (1.0, 1.0)]));
    let layout = chart.layout();
    let pixels = chart.render();
    let mid_x = layout.plot.x + layout.plot.w / 2;
    let (_, low) = px(&layout, 0.0, 0.0);
    let (_, high) = px(&layout, 0.0, 1.0);
    assert_eq!(pixel(&pixels, 300, mid_x, low), PALETTE[0]);
    assert_eq!(pixel(&pixels, 300, mid_x, high), PALETTE[1]);
}

#[test]
fn png_decodes_to_the_rendered_pixels_at_the_right_size() -> Result<(), Box<dyn std::error::Error>>
{
    let chart = Chart::new("decode me", "step", "loss")
        .with_size(321, 123)
        .with_series(Series::new(
            "loss",
            vec![(0.0, 1.0), (1.0, 0.5), (2.0, 0.25)],
        ));
    let bytes = chart.encode_png()?;
    let mut reader = png::Decoder::new(Cursor::new(bytes)).read_info()?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or("no buffer size")?];
    let info = reader.next_frame(&mut buf)?;
    assert_eq!((info.width, info.height), (321, 123));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    assert_eq!(&buf[..info.buffer_size()], chart.render().as_slice());

    // The same bytes reach the disk through `save_png`.
    let dir = scratch_dir("decode")?;
    let path = dir.join("chart.png");
    chart.save_png(&path)?;
    assert_eq!(std::fs::read(&path)?, chart.encode_png()?);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn log_axis_maps_10_and_1000_to_the_expected_columns() {
    let chart = Chart::new("log", "n", "v")
        .with_log_x(true)
        .with_series(Series::new("", vec![(10.0, 1.0), (1000.0, 1.0)]));
    let layout = chart.layout();
    let plot = layout.plot;
    // Two decades of data plus 5 % padding each side: the axis spans 10^0.9 .. 10^3.1.
    let width = (plot.w - 1) as f64;
    let expect_10 = plot.x as f64 + width * 0.1 / 2.2;
    let expect_1000 = plot.x as f64 + width * 2.1 / 2.2;
    let got_10 = layout.x_px(10.0).expect("10 is on the axis");
    let got_1000 = layout.x_px(1000.0).expect("1000 is on the axis");
    assert!((got_10 - expect_10).abs() < 1e-6, "{got_10} vs {expect_10}");
    assert!(
        (got_1000 - expect_1000).abs() < 1e-6,
        "{got_1000} vs {expect_1000}"
    );
    let got_100 = layout.x_px(100.0).expect("100 is on the axis");
    assert!(
        (got_100 - (got_10 + got_1000) / 2.0).abs() < 1e-6,
        "100 sits midway"
    );
    assert_eq!(layout.x_px(0.0), None, "zero has no place on a log axis");

    let labels: Vec<&str> = layout.x.major_ticks().map(|(_, l)| l).collect();
    assert_eq!(labels, ["10", "100", "1000"]);
    assert!(
        layout.x.ticks.iter().any(|t| t.label.is_none()),
        "minor ticks between decades"
    );

    // The markers really are drawn there.
    let pixels = chart.render();
    let (_, row) = px(&layout, 10.0, 1.0);
    for x in [got_10, got_1000] {
        assert_eq!(
            pixel(&pixels, chart.width, x.round() as i32, row),
            PALETTE[0]
        );
    }
}

#[test]
fn non_finite_points_are_skipped_and_break_the_line() {
    let chart = Chart::new("gaps", "x", "y")
        .with_size(400, 300)
        .with_series(Series::new(
            "",
            vec![
                (0.0, 0.0),
                (1.0, f64::NAN),
                (f64::INFINITY, 1.0),
                (2.0, f64::NEG_INFINITY),
                (3.0, 1.0),
            ],
        ));
    let layout = chart.layout();
    // Ranges come from the finite points only.
    assert!(layout.x.min > -0.5 && layout.x.max < 3.5, "{:?}", layout.x);
    assert!(layout.y.min > -0.5 && layout.y.max < 1.5, "{:?}", layout.y);

    let pixels = chart.render();
    let (x0, y0) = px(&layout, 0.0, 0.0);
    let (x3, y3) = px(&layout, 3.0, 1.0);
    assert_eq!(
        pixel(&pixels, 400, x0, y0),
        PALETTE[0],
        "finite points keep their markers"
    );
    assert_eq!(pixel(&pixels, 400, x3, y3), PALETTE[0]);
    // Halfway along where a joining line would run, there is none: the gap shows.
    let (mx, my) = ((x0 + x3) / 2, (y0 + y3) / 2);
    for dy in -2..=2 {
        assert_ne!(pixel(&pixels, 400, mx, my + dy), PALETTE[0]);
    }
}

#[test]
fn non_positive_x_is_skipped_on_a_log_axis() {
    let chart = Chart::new("", "", "")
        .with_log_x(true)
        .with_series(Series::new(
            "",
            vec![(-1.0, 0.0), (0.0, 1.0), (10.0, 2.0), (100.0, 3.0)],
        ));
    let layout = chart.layout();
    assert!(layout.x.min > 1.0 && layout.y.min > 1.0, "{layout:?}");
    assert_eq!(chart.render().len(), 800 * 500 * 3);
}

#[test]
fn empty_charts_and_single_points_render() {
    let empty = Chart::new("nothing", "x", "y");
    assert_eq!(empty.render().len(), 800 * 500 * 3);
    let all_nan = Chart::new("", "", "").with_series(Series::new("nan", vec![(f64::NAN, 1.0)]));
    assert_eq!(all_nan.render().len(), 800 * 500 * 3);
    let log_empty = Chart::new("", "", "").with_log_x(true);
    assert_eq!(log_empty.render().len(), 800 * 500 * 3);

    for log_x in [false, true] {
        let one = Chart::new("one", "x", "y")
            .with_log_x(log_x)
            .with_series(Series::new("", vec![(3.0, 7.0)]));
        let layout = one.layout();
        assert!(layout.x.min < 3.0 && layout.x.max > 3.0 && layout.y.min < 7.0);
        assert!(layout.y.max > 7.0);
        let (x, y) = px(&layout, 3.0, 7.0);
        // A lone point is centred, and drawn.
        assert!((x - (layout.plot.x + layout.plot.w / 2)).abs() <= 1);
        assert!((y - (layout.plot.y + layout.plot.h / 2)).abs() <= 1);
        assert_eq!(pixel(&one.render(), one.width, x, y), PALETTE[0]);
    }
}

#[test]
fn error_bars_widen_the_range_and_are_drawn() {
    let chart = Chart::new("err", "x", "y").with_series(
        Series::new("", vec![(0.0, 10.0), (1.0, 10.0), (2.0, 10.0)]).with_error(vec![
            0.0,
            4.0,
            f64::NAN,
        ]),
    );
    let layout = chart.layout();
    assert!(layout.y.min < 6.0 && layout.y.max > 14.0, "{:?}", layout.y);
    let pixels = chart.render();
    let (x, top) = px(&layout, 1.0, 14.0);
    let (_, bottom) = px(&layout, 1.0, 6.0);
    for y in [top, bottom, (top + bottom) / 2 - 8] {
        assert_eq!(
            pixel(&pixels, chart.width, x, y),
            PALETTE[0],
            "bar at row {y}"
        );
    }
    // No bar where the half-width is zero or NaN.
    let (x0, _) = px(&layout, 0.0, 14.0);
    assert_ne!(pixel(&pixels, chart.width, x0, top), PALETTE[0]);
}

#[test]
fn saving_into_a_missing_or_unwritable_directory_is_an_error() -> std::io::Result<()> {
    let dir = scratch_dir("unwritable")?;
    let chart = Chart::new("t", "x", "y");

    let missing = dir.join("no-such-dir").join("chart.png");
    match chart.save_png(&missing) {
        Err(PlotError::Io { .. }) => {}
        other => panic!("expected an I/O error, got {other:?}"),
    }
    // A regular file where a directory should be fails even for root.
    let file = dir.join("a-file");
    std::fs::write(&file, b"not a directory")?;
    assert!(matches!(
        chart.save_png(&file.join("chart.png")),
        Err(PlotError::Io { .. })
    ));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.join("locked");
        std::fs::create_dir(&locked)?;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555))?;
        // Root ignores permission bits; only assert where they are enforced.
        let enforced = std::fs::write(locked.join("probe"), b"").is_err();
        let result = chart.save_png(&locked.join("chart.png"));
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755))?;
        if enforced {
            assert!(matches!(result, Err(PlotError::Io { .. })), "{result:?}");
        }
    }

    assert!(matches!(
        chart.save_png(std::path::Path::new("/")),
        Err(PlotError::InvalidPath(_))
    ));
    let empty = Chart::new("", "", "").with_size(0, 10);
    assert!(matches!(
        empty.save_png(&dir.join("e.png")),
        Err(PlotError::EmptyImage { .. })
    ));
    let message = chart
        .save_png(&missing)
        .map_err(|e| e.to_string())
        .err()
        .unwrap_or_default();
    assert!(
        message.contains("no-such-dir"),
        "the error names the path: {message}"
    );
    std::fs::remove_dir_all(&dir)
}

#[test]
fn saving_replaces_the_file_whole_and_leaves_no_temp_files(
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = scratch_dir("atomic")?;
    let path = dir.join("chart.png");
    std::fs::write(&path, b"old contents")?;
    let chart = Chart::new("new", "x", "y").with_size(200, 100);
    chart.save_png(&path)?;
    chart.save_png(&path)?;
    assert_eq!(&std::fs::read(&path)?[..8], b"\x89PNG\r\n\x1a\n");
    let names: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    assert_eq!(names, ["chart.png"], "only the target remains");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn large_charts_scale_their_text() {
    assert_eq!(Chart::new("", "", "").text_scale(), 1);
    assert_eq!(Chart::new("", "", "").with_size(1600, 1000).text_scale(), 2);
    assert_eq!(Chart::new("", "", "").with_size(3200, 600).text_scale(), 1);
}

#[test]
fn wild_values_do_not_hang_or_panic() {
    let chart = Chart::new("", "", "").with_series(
        Series::new(
            "w",
            vec![(0.0, f64::MAX), (1.0, -f64::MAX), (f64::MIN_POSITIVE, 0.0)],
        )
        .with_error(vec![f64::MAX, 1e308, -3.0]),
    );
    assert_eq!(chart.render().len(), 800 * 500 * 3);
    let chart = chart.with_log_x(true);
    assert_eq!(chart.render().len(), 800 * 500 * 3);
}
