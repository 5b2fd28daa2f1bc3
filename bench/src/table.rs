//! Statistics over repetitions and the one table the run prints and writes.

/// Median and spread (p10–p90, nearest rank) of one figure over the repetitions.
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    pub med: f64,
    pub lo: f64,
    pub hi: f64,
}

impl Stat {
    pub fn of(v: &[f64]) -> Stat {
        let mut s = v.to_vec();
        s.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let at = |p: f64| s[((p / 100.0) * (s.len() - 1) as f64).round() as usize];
        Stat { med: at(50.0), lo: at(10.0), hi: at(90.0) }
    }
}

pub struct Row {
    group: String,
    name: String,
    unit: String,
    /// Figures where more is better (throughput, MB/s): their ratio is inverted so that every
    /// ratio in the table reads the same way, beamlink cost / reference cost.
    higher_better: bool,
    bl: Option<Stat>,
    reference: String,
    rf: Option<Stat>,
    /// Met when ratio ≤ this.
    target: Option<f64>,
    note: String,
    /// The line of the README's performance table this row feeds; rows sharing a label are
    /// summarised in one line (range of ratios, how many meet the target).
    headline: Option<String>,
}

impl Row {
    pub fn new(
        group: &str,
        name: &str,
        unit: &str,
        higher_better: bool,
        bl: Stat,
        reference: &str,
        rf: Stat,
    ) -> Row {
        Row {
            group: group.into(),
            name: name.into(),
            unit: unit.into(),
            higher_better,
            bl: Some(bl),
            reference: reference.into(),
            rf: Some(rf),
            target: None,
            note: String::new(),
            headline: None,
        }
    }

    pub fn skipped(group: &str, name: &str, reference: &str, why: &str) -> Row {
        Row {
            group: group.into(),
            name: name.into(),
            unit: String::new(),
            higher_better: false,
            bl: None,
            reference: reference.into(),
            rf: None,
            target: None,
            note: why.into(),
            headline: None,
        }
    }

    pub fn target(mut self, t: f64) -> Row {
        self.target = Some(t);
        self
    }

    pub fn note(mut self, n: &str) -> Row {
        self.note = n.into();
        self
    }

    /// Puts the row in the README's performance table under `label`.
    pub fn headline(mut self, label: &str) -> Row {
        self.headline = Some(label.into());
        self
    }

    /// beamlink cost / reference cost: below 1 beamlink is better.
    pub fn ratio(&self) -> Option<f64> {
        let (b, r) = (self.bl?.med, self.rf?.med);
        Some(if self.higher_better { r / b } else { b / r })
    }

    fn met(&self) -> Option<bool> {
        Some(self.ratio()? <= self.target?)
    }

    fn verdict(&self) -> String {
        match (self.target, self.ratio()) {
            (Some(t), Some(r)) => format!("≤ {t:.2}: {}", if r <= t { "met" } else { "MISSED" }),
            (Some(t), None) => format!("≤ {t:.2}: not run"),
            _ => String::new(),
        }
    }
}

#[derive(Default)]
pub struct Table {
    rows: Vec<Row>,
}

/// Three significant digits, with k/M suffixes for big numbers.
pub fn fmt(v: f64) -> String {
    let (v, suf) = if v.abs() >= 1e6 {
        (v / 1e6, "M")
    } else if v.abs() >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    format!("{s}{suf}")
}

fn cell(s: Option<Stat>, unit: &str) -> String {
    match s {
        Some(s) => format!("{} {unit} [{}–{}]", fmt(s.med), fmt(s.lo), fmt(s.hi)),
        None => "–".into(),
    }
}

impl Table {
    pub fn push(&mut self, r: Row) {
        eprintln!(
            "bench:   {} | {} | {} | {} | {}",
            r.name,
            cell(r.bl, &r.unit),
            cell(r.rf, &r.unit),
            r.ratio().map(|x| format!("{x:.2}")).unwrap_or("–".into()),
            r.verdict()
        );
        self.rows.push(r);
    }

    /// Markdown, so the terminal output and bench/RESULTS.md are the same text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("Figures: median over repetitions [p10–p90]. **ratio = beamlink cost / reference cost** (time, or bytes for memory; for throughput and MB/s rows the inverse of the figures' ratio): **below 1.00 beamlink is better**. Target: the ratio the issue asks for, met or MISSED.\n\n");
        s.push_str(
            "| group | benchmark | beamlink | reference | reference figure | ratio | target | note |\n",
        );
        s.push_str("|---|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.group,
                r.name,
                cell(r.bl, &r.unit),
                r.reference,
                cell(r.rf, &r.unit),
                r.ratio().map(|x| format!("**{x:.2}**")).unwrap_or("–".into()),
                r.verdict(),
                r.note
            ));
        }
        s
    }

    /// The targets alone, met first, for a quick read.
    pub fn targets(&self) -> String {
        let mut met = vec![];
        let mut missed = vec![];
        for r in self.rows.iter().filter(|r| r.target.is_some()) {
            let line = format!(
                "- {} vs {}: ratio {} (target ≤ {:.2})",
                r.name,
                r.reference,
                r.ratio().map(|x| format!("{x:.2}")).unwrap_or("not run".into()),
                r.target.unwrap()
            );
            match r.ratio() {
                Some(x) if x <= r.target.unwrap() => met.push(line),
                _ => missed.push(line),
            }
        }
        format!(
            "\n## Targets\n\nMet ({}):\n\n{}\n\nMissed or not run ({}):\n\n{}\n",
            met.len(),
            met.join("\n"),
            missed.len(),
            missed.join("\n")
        )
    }
}

impl Table {
    /// The README's performance table: one line per headline label, in the order the labels
    /// first appear. A label with one row shows both figures; a label shared by several rows
    /// (the codec items, say) shows the range of their ratios and how many meet the target.
    pub fn headline(&self) -> String {
        let mut labels: Vec<&str> = vec![];
        for r in &self.rows {
            if let Some(l) = r.headline.as_deref()
                && !labels.contains(&l)
            {
                labels.push(l);
            }
        }
        let mut s =
            String::from("| | beamlink | reference | ratio | target |\n| --- | --- | --- | --- | --- |\n");
        for l in labels {
            let rows: Vec<&Row> = self.rows.iter().filter(|r| r.headline.as_deref() == Some(l)).collect();
            let ratios: Vec<f64> = rows.iter().filter_map(|r| r.ratio()).collect();
            let target = rows.iter().find_map(|r| r.target);
            let (bl, rf, ratio) = match (rows.as_slice(), ratios.as_slice()) {
                (_, []) => ("–".to_string(), "–".to_string(), "not run".to_string()),
                ([r], [x]) => (short(r.bl, &r.unit), short(r.rf, &r.unit), format!("**{x:.2}**")),
                (_, xs) => {
                    let lo = xs.iter().cloned().fold(f64::INFINITY, f64::min);
                    let hi = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    (format!("{} items", rows.len()), "–".to_string(), format!("**{lo:.2}–{hi:.2}**"))
                }
            };
            let verdict = match target {
                None => "–".to_string(),
                Some(t) => {
                    let targeted: Vec<&&Row> = rows.iter().filter(|r| r.target.is_some()).collect();
                    let met = targeted.iter().filter(|r| r.met() == Some(true)).count();
                    if targeted.len() == 1 {
                        format!("≤ {t:.2}, {}", if met == 1 { "met" } else { "missed" })
                    } else {
                        format!("≤ {t:.2}, met by {met} of {}", targeted.len())
                    }
                }
            };
            s.push_str(&format!("| {l} | {bl} | {rf} | {ratio} | {verdict} |\n"));
        }
        let targeted: Vec<&Row> = self.rows.iter().filter(|r| r.target.is_some()).collect();
        let met = targeted.iter().filter(|r| r.met() == Some(true)).count();
        s.push_str(&format!("\n{met} of the {} targeted rows are met in this run.\n", targeted.len()));
        s
    }
}

fn short(s: Option<Stat>, unit: &str) -> String {
    match s {
        Some(s) => format!("{} {unit}", fmt(s.med)),
        None => "–".into(),
    }
}
