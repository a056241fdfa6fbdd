use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::*;

fn exposure(
    product: &str,
    net_exposure: f64,
    annual_frequency: f64,
    mean_severity: f64,
) -> Exposure {
    Exposure {
        product: product.to_string(),
        net_exposure,
        annual_frequency,
        mean_severity,
    }
}

/// A small mixed book: frequent small hacks, a rare large depeg, a mid one.
fn mixed_book() -> Book {
    Book {
        capital: 3_000_000.0,
        exposures: vec![
            exposure("aave-v3-cover", 2_000_000.0, 0.6, 0.25),
            exposure("usdc-depeg", 5_000_000.0, 0.05, 0.15),
            exposure("curve-3pool", 1_500_000.0, 0.3, 0.6),
        ],
    }
}

fn mean_and_variance(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

// ---------------------------------------------------------------- simulation

#[test]
fn same_seed_gives_identical_results() {
    let book = mixed_book();
    let a = simulate(&book, 5_000, 42);
    let b = simulate(&book, 5_000, 42);
    assert_eq!(a, b);
    assert_eq!(a.summary(), b.summary());
    assert_eq!(a.exceedance_curve(), b.exceedance_curve());
    assert!(
        a.summary().expected_loss > 0.0,
        "the book should produce losses"
    );
}

#[test]
fn different_seed_gives_different_losses() {
    let book = mixed_book();
    let a = simulate(&book, 5_000, 1);
    let b = simulate(&book, 5_000, 2);
    assert_ne!(a.losses(), b.losses());
    assert_ne!(a.summary().expected_loss, b.summary().expected_loss);
    assert_eq!((a.summary().seed, b.summary().seed), (1, 2));
}

#[test]
fn zero_frequency_product_does_not_shift_the_random_stream() {
    let book = mixed_book();
    let mut padded = book.clone();
    padded
        .exposures
        .insert(1, exposure("dormant", 9_000_000.0, 0.0, 0.5));
    assert_eq!(
        simulate(&book, 2_000, 7).losses(),
        simulate(&padded, 2_000, 7).losses()
    );
}

#[test]
fn zero_frequency_book_has_zero_loss_everywhere() {
    let book = Book {
        capital: 100.0,
        exposures: vec![
            exposure("a", 1_000_000.0, 0.0, 0.5),
            exposure("b", 50_000.0, 0.0, 1.0),
        ],
    };
    let sim = simulate(&book, 1_000, 9);
    assert!(sim.losses().iter().all(|&l| l == 0.0));
    let s = sim.summary();
    assert_eq!(s.trials, 1_000);
    assert_eq!(
        (
            s.expected_loss,
            s.var_995,
            s.tvar_995,
            s.max_loss,
            s.prob_ruin
        ),
        (0.0, 0.0, 0.0, 0.0, 0.0)
    );
    assert_eq!(sim.exceedance_curve(), vec![(0.0, 0.0)]);

    let empty = Book {
        capital: 0.0,
        exposures: vec![],
    };
    let s = simulate(&empty, 10, 9).summary();
    assert_eq!((s.max_loss, s.prob_ruin), (0.0, 0.0));
}

#[test]
fn total_loss_severity_matches_poisson_analytics() {
    // mean_severity = 1 is degenerate: every incident loses the full exposure,
    // so the annual loss is exposure × Poisson(λ).
    let (lambda, exposure_amount, n) = (1.5, 1_000.0, 20_000u32);
    let book = Book {
        capital: 2_500.0, // ruined iff 3 or more incidents
        exposures: vec![exposure("p", exposure_amount, lambda, 1.0)],
    };
    let sim = simulate(&book, n, 2024);
    for &l in sim.losses() {
        let count = l / exposure_amount;
        assert_eq!(
            count,
            count.round(),
            "loss {l} is not a whole number of total losses"
        );
    }
    let (mean, var) = mean_and_variance(sim.losses());
    let se = exposure_amount * (lambda / f64::from(n)).sqrt();
    let expected = lambda * exposure_amount;
    assert!(
        (mean - expected).abs() < 4.0 * se,
        "mean {mean} vs {expected} ± {se}"
    );
    assert_eq!(sim.summary().expected_loss, mean);
    let expected_var = lambda * exposure_amount * exposure_amount;
    assert!(
        (var / expected_var - 1.0).abs() < 0.06,
        "variance {var} vs {expected_var}"
    );

    let e = (-lambda).exp();
    let p_ruin = 1.0 - e * (1.0 + lambda + lambda * lambda / 2.0);
    let se_p = (p_ruin * (1.0 - p_ruin) / f64::from(n)).sqrt();
    let got = sim.summary().prob_ruin;
    assert!(
        (got - p_ruin).abs() < 4.0 * se_p,
        "P(ruin) {got} vs {p_ruin}"
    );
}

#[test]
fn beta_severity_expected_loss_matches_analytic_mean() {
    let (lambda, exposure_amount, m, n) = (0.8, 1_000_000.0, 0.3, 20_000u32);
    let book = Book {
        capital: 1_000_000.0,
        exposures: vec![exposure("p", exposure_amount, lambda, m)],
    };
    let sim = simulate(&book, n, 77);
    // Compound Poisson: Var = λ · E[X²], with E[S²] = 2 / ((1+b)(2+b)) for Beta(1, b).
    let b = 1.0 / m - 1.0;
    let second_moment = 2.0 / ((1.0 + b) * (2.0 + b));
    let se = exposure_amount * (lambda * second_moment / f64::from(n)).sqrt();
    let expected = lambda * exposure_amount * m;
    let got = sim.summary().expected_loss;
    assert!(
        (got - expected).abs() < 4.0 * se,
        "E[loss] {got} vs {expected} ± {se}"
    );
    assert!(
        sim.summary().max_loss > exposure_amount * 0.9,
        "tail should reach big losses"
    );
}

#[test]
fn severity_sampler_has_requested_mean_and_support() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for m in [0.02, 0.3, 0.5, 0.85] {
        let draws: Vec<f64> = (0..100_000)
            .map(|_| sample::severity(&mut rng, m))
            .collect();
        assert!(
            draws.iter().all(|&s| s > 0.0 && s <= 1.0),
            "support for mean {m}"
        );
        let b = 1.0 / m - 1.0;
        let sd = (b / ((1.0 + b).powi(2) * (2.0 + b))).sqrt();
        let (mean, _) = mean_and_variance(&draws);
        assert!(
            (mean - m).abs() < 4.0 * sd / (draws.len() as f64).sqrt(),
            "mean {mean} vs {m}"
        );
    }
    assert!((0..100).all(|_| sample::severity(&mut rng, 1.0) == 1.0));
}

#[test]
fn poisson_sampler_matches_mean_and_variance() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    assert_eq!(sample::poisson(&mut rng, 0.0), 0);
    // 600 exercises the chunked path (256 + 256 + 88).
    for (lambda, n) in [(0.05, 50_000), (3.0, 50_000), (600.0, 20_000)] {
        let draws: Vec<f64> = (0..n)
            .map(|_| sample::poisson(&mut rng, lambda) as f64)
            .collect();
        let (mean, var) = mean_and_variance(&draws);
        let se = (lambda / n as f64).sqrt();
        assert!((mean - lambda).abs() < 4.0 * se, "λ={lambda}: mean {mean}");
        assert!(
            (var / lambda - 1.0).abs() < 0.08,
            "λ={lambda}: variance {var}"
        );
    }
}

#[test]
fn risk_measures_are_ordered_and_curve_is_monotone() {
    for seed in [1, 2, 3] {
        let sim = simulate(&mixed_book(), 20_000, seed);
        let s = sim.summary();
        assert!(s.var_995 > 0.0, "seed {seed}: book too quiet to test");
        assert!(s.var_995 <= s.tvar_995, "seed {seed}: {s:?}");
        assert!(s.tvar_995 <= s.max_loss, "seed {seed}: {s:?}");
        assert!(s.expected_loss <= s.tvar_995, "seed {seed}: {s:?}");
        assert!(sim.exceedance_probability(s.var_995) <= 1.0 - CONFIDENCE);
        assert_eq!(s.prob_ruin, sim.exceedance_probability(s.capital));

        let curve = sim.exceedance_curve();
        assert!(curve.len() > 100);
        for w in curve.windows(2) {
            assert!(w[0].0 < w[1].0, "losses must increase: {w:?}");
            assert!(w[0].1 >= w[1].1, "probabilities must not increase: {w:?}");
        }
        assert!(curve[0].1 <= 1.0);
        assert_eq!(*curve.last().unwrap(), (s.max_loss, 0.0));
    }
}

#[test]
fn var_and_tvar_follow_their_definitions() {
    // Losses 1..=1000 in scrambled order.
    let losses: Vec<f64> = (0..1000)
        .map(|i| f64::from((i * 7919) % 1000 + 1))
        .collect();
    let sim = Simulation::from_losses(losses, 990.0, 0);
    let s = sim.summary();
    assert_eq!(s.var_995, 995.0);
    assert_eq!(s.tvar_995, 997.5);
    assert_eq!(s.prob_ruin, 0.01);
    assert_eq!(s.max_loss, 1000.0);
    assert_eq!(s.expected_loss, 500.5);
    assert_eq!(sim.var(0.5), 500.0);

    // Ties at VaR are all in the tail.
    let mut tied = vec![0.0; 990];
    tied.extend([5.0; 10]);
    let sim = Simulation::from_losses(tied, 0.0, 0);
    assert_eq!((sim.var(0.995), sim.tvar(0.995)), (5.0, 5.0));
    assert_eq!(sim.exceedance_curve(), vec![(0.0, 0.01), (5.0, 0.0)]);
}

#[test]
fn invalid_books_are_rejected() {
    let ok = mixed_book();
    assert!(try_simulate(&ok, 10, 0).is_ok());
    assert_eq!(try_simulate(&ok, 0, 0), Err(BookError::NoTrials));

    let mut bad = ok.clone();
    bad.capital = f64::NAN;
    assert!(matches!(
        try_simulate(&bad, 10, 0),
        Err(BookError::InvalidCapital(_))
    ));

    for (field, tweak) in [
        (
            "net_exposure",
            (|e: &mut Exposure| e.net_exposure = -1.0) as fn(&mut Exposure),
        ),
        ("annual_frequency", |e| e.annual_frequency = f64::NAN),
        ("annual_frequency", |e| e.annual_frequency = 1e9),
        ("mean_severity", |e| e.mean_severity = 0.0),
        ("mean_severity", |e| e.mean_severity = 1.5),
    ] {
        let mut bad = ok.clone();
        tweak(&mut bad.exposures[1]);
        match try_simulate(&bad, 10, 0) {
            Err(BookError::InvalidExposure {
                product, field: f, ..
            }) => {
                assert_eq!((product.as_str(), f), ("usdc-depeg", field));
            }
            other => panic!("expected an invalid {field}, got {other:?}"),
        }
    }
}

#[test]
#[should_panic(expected = "cannot simulate book")]
fn simulate_panics_on_invalid_book() {
    simulate(&mixed_book(), 0, 0);
}

// --------------------------------------------------------------- calibration

const FOUR_OVER_TWO_YEARS: &str = "\
date,protocol,loss_usd
2022-02-10,Aave,1000000
2022-09-01,aave,3000000
2023-01-15,AAVE,500000
2023-11-30, Aave ,1500000
";

#[test]
fn calibration_counts_incidents_per_year() {
    let cal = calibrate_from_csv(FOUR_OVER_TWO_YEARS).unwrap();
    assert_eq!(cal.span_years, 2.0);
    let aave = cal.get("aave").expect("aave calibrated");
    assert_eq!(aave.incidents, 4);
    assert_eq!(aave.frequency, 2.0);
    assert_eq!(aave.mean_severity_usd, 1_500_000.0);
    assert_eq!(cal.get(" Aave"), Some(aave), "lookups are case-insensitive");
    assert_eq!(cal.default.frequency, 2.0);
    assert!(cal.get("curve").is_none());
    assert_eq!(cal.stats_or_default("curve"), &cal.default);

    // Header optional; comments, blank lines and quotes are fine.
    let headless = FOUR_OVER_TWO_YEARS.replace("date,protocol,loss_usd\n", "# history\n\n");
    let quoted = headless.replace("2022-09-01,aave,", "\"2022-09-01\",\"aave\",");
    assert_eq!(calibrate_from_csv(&quoted).unwrap(), cal);
}

#[test]
fn calibration_with_several_protocols_and_explicit_span() {
    let csv = "2021-06-01,Curve,200\n2023-03-03,\"Aave, v3\",100\n2023-04-04,aave, v3,300\n";
    // The third row has 4 fields once the quotes are gone.
    assert!(matches!(
        calibrate_from_csv(csv),
        Err(CalibrationError::Row { line: 3, .. })
    ));
    let csv = csv.replace("aave, v3,300", "\"AAVE, V3\",300");
    let cal = calibrate_from_csv(&csv).unwrap();
    assert_eq!(cal.span_years, 3.0); // 2021..=2023
    assert_eq!(cal.get("aave, v3").unwrap().incidents, 2);
    assert_eq!(cal.get("aave, v3").unwrap().mean_severity_usd, 200.0);
    assert_eq!(cal.get("curve").unwrap().frequency, 1.0 / 3.0);
    // Default: 3 incidents / 3 years / 2 protocols, pooled mean loss 200.
    assert_eq!(cal.default.frequency, 0.5);
    assert_eq!(cal.default.mean_severity_usd, 200.0);
    assert_eq!(cal.default.incidents, 3);

    let cal = calibrate_from_csv_with_span(&csv, 6.0).unwrap();
    assert_eq!(cal.get("Aave, V3").unwrap().frequency, 2.0 / 6.0);
    assert_eq!(
        calibrate_from_csv_with_span(&csv, 0.0),
        Err(CalibrationError::InvalidSpan(0.0))
    );
}

#[test]
fn calibration_errors_name_the_line() {
    let cases = [
        (
            "date,protocol,loss_usd\n2022-01-01,a,1\n2022-13-01,a,1\n",
            3,
            "date `2022-13-01`",
        ),
        ("2022-01-01,a,1\n\n2023-02-29,a,1\n", 3, "date `2023-02-29`"),
        ("2022-01-01,a,1\n2024-2-29,a,1\n", 2, "date `2024-2-29`"),
        (
            "2022-01-01,a,1\n2022-01-02,a,abc\n",
            2,
            "loss_usd `abc` is not a number",
        ),
        ("2022-01-01,a,-5\n", 1, "positive"),
        ("2022-01-01,a,NaN\n", 1, "positive"),
        ("# c\n2022-01-01,a\n", 2, "expected 3 fields"),
        ("2022-01-01,a,1,2,3\n", 1, "found 5"),
        (
            "2022-01-01,a,lending,2\n2022-01-01,a,2\n",
            2,
            "expected 4 fields",
        ),
        (
            "2022-01-01,a,insurance,2\n",
            1,
            "unknown category `insurance`",
        ),
        ("2022-01-01, ,1\n", 1, "protocol is empty"),
        ("2022-01-01,\"a,1\n", 1, "unterminated"),
        ("Date,loss_usd,protocol\n2022-01-01,a,1\n", 1, "header"),
    ];
    for (csv, line, needle) in cases {
        match calibrate_from_csv(csv) {
            Err(e @ CalibrationError::Row { line: l, .. }) => {
                let msg = e.to_string();
                assert_eq!(l, line, "{csv:?}: {msg}");
                assert!(msg.starts_with(&format!("line {line}: ")), "{msg}");
                assert!(msg.contains(needle), "{csv:?}: {msg} lacks {needle:?}");
            }
            other => panic!("{csv:?}: expected a row error, got {other:?}"),
        }
    }
    assert_eq!(calibrate_from_csv(""), Err(CalibrationError::NoIncidents));
    assert_eq!(
        calibrate_from_csv("date,protocol,loss_usd\n"),
        Err(CalibrationError::NoIncidents)
    );
    // Leap day in a leap year is fine, and so is a byte-order mark.
    assert!(calibrate_from_csv("\u{feff}2024-02-29,a,1\n").is_ok());
}

#[test]
fn calibration_applies_frequency_and_severity_to_products() {
    let cal = calibrate_from_csv(FOUR_OVER_TWO_YEARS).unwrap();
    let mut book = Book {
        capital: 1.0,
        exposures: vec![
            exposure("aave-cover", 1_000.0, 9.0, 0.9),
            exposure("new-protocol-cover", 1_000.0, 9.0, 0.9),
            exposure("manual", 1_000.0, 0.123, 0.456),
            exposure("tiny-tvl", 1_000.0, 9.0, 0.9),
        ],
    };
    let link = |product: &str| match product {
        "aave-cover" => Some(ProductLink {
            protocol: "Aave".into(),
            total_value_usd: 10_000_000.0,
        }),
        "new-protocol-cover" => Some(ProductLink {
            protocol: "fresh".into(),
            total_value_usd: 30_000_000.0,
        }),
        "tiny-tvl" => Some(ProductLink {
            protocol: "aave".into(),
            total_value_usd: 1_000.0,
        }),
        _ => None,
    };
    let defaulted = cal.apply(&mut book, link).unwrap();
    assert_eq!(defaulted, vec!["new-protocol-cover".to_string()]);
    let got: Vec<(f64, f64)> = book
        .exposures
        .iter()
        .map(|e| (e.annual_frequency, e.mean_severity))
        .collect();
    assert_eq!(
        got,
        vec![(2.0, 0.15), (2.0, 0.05), (0.123, 0.456), (2.0, 1.0)]
    );
    assert!(book.validate().is_ok());

    // A bad total value is an error and leaves the book untouched.
    let before = book.clone();
    let err = cal
        .apply(&mut book, |p| {
            Some(ProductLink {
                protocol: "aave".into(),
                total_value_usd: if p == "manual" { 0.0 } else { 1e6 },
            })
        })
        .unwrap_err();
    assert_eq!(
        err,
        CalibrationError::InvalidTotalValue {
            product: "manual".into(),
            value: 0.0
        }
    );
    assert_eq!(book, before);
}

// --------------------------------------------------------------------- chart

#[test]
fn svg_chart_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let book = mixed_book();
    let sim = simulate(&book, 10_000, 3);
    let path = dir.path().join("exceedance.svg");
    write_exceedance_svg(&sim, book.capital, "Pool #7 & friends", &path).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("Pool #7 &amp; friends"));
    assert!(svg.contains("VaR 99.5%"));
    assert!(svg.contains("capital = 3.00M"));
    assert!(svg.contains("<polyline"), "curve missing");
    assert!(
        svg.len() < 200_000,
        "svg unexpectedly large: {} bytes",
        svg.len()
    );

    // A quiet book still charts; bad capital is refused.
    let quiet = simulate(
        &Book {
            capital: 0.0,
            exposures: vec![],
        },
        100,
        0,
    );
    let quiet_path = dir.path().join("quiet.svg");
    write_exceedance_svg(&quiet, 0.0, "quiet", &quiet_path).unwrap();
    assert!(std::fs::read_to_string(&quiet_path)
        .unwrap()
        .starts_with("<svg"));
    assert!(write_exceedance_svg(&sim, f64::INFINITY, "x", &path).is_err());
}
