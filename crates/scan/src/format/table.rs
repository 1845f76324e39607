//! The `table` format: a summary and one line per package, for a terminal.

use std::fmt::Write;

use crate::Report;

pub(super) fn render(report: &Report) -> String {
    let mut out = String::new();
    let inv = &report.inventory;
    let img = &report.image;
    let _ = writeln!(out, "Image:     {}", img.reference);
    if let Some(id) = &img.id {
        let _ = writeln!(out, "ID:        {id}");
    }
    let _ = writeln!(out, "Platform:  {}   Layers: {}   Size: {}", img.platform, img.layers.len(), human(img.size));
    match &inv.os {
        Some(os) if os.is_known() => {
            let name = os
                .pretty_name
                .clone()
                .unwrap_or_else(|| format!("{} {}", os.id, os.version_id.as_deref().unwrap_or("")).trim().to_owned());
            let _ = writeln!(out, "OS:        {name}");
        }
        _ => {
            let _ = writeln!(out, "OS:        unknown (no os-release or distribution file found)");
        }
    }
    let f = &inv.files;
    let _ = writeln!(
        out,
        "Files:     {} owned by packages ({}), {} unowned ({})",
        f.owned_count,
        human(f.owned_bytes),
        f.unowned_count,
        human(f.unowned_bytes)
    );
    let _ = writeln!(out, "Packages:  {}", inv.packages.len());
    if let Some(v) = &report.vulnerabilities {
        vulnerabilities(&mut out, v);
    } else {
        packages(&mut out, report);
    }
    if let Some(found) = &report.secrets {
        let _ = writeln!(out, "\nSecrets: {}", found.len());
        if !found.is_empty() {
            let rows: Vec<Vec<String>> = found
                .iter()
                .map(|s| {
                    let place = if s.line > 0 { format!("{}:{}", s.path, s.line) } else { s.path.clone() };
                    let removed = if s.removed { " (deleted later)" } else { "" };
                    vec![
                        format!("{:?}", s.severity).to_lowercase(),
                        s.rule_id.clone(),
                        format!("{place}{removed}"),
                        s.masked.clone(),
                    ]
                })
                .collect();
            grid(&mut out, &["SEVERITY", "RULE", "WHERE", "MATCH"], &rows);
        }
    }
    if let Some(m) = &report.malware {
        let _ = writeln!(out, "\nMalicious files: {}", m.findings.len());
        if !m.findings.is_empty() {
            let rows: Vec<Vec<String>> = m
                .findings
                .iter()
                .map(|h| {
                    let f = &h.finding;
                    let path = if f.visible { f.path.clone() } else { format!("{} (deleted later)", f.path) };
                    vec![f.category.as_str().to_owned(), f.rule.clone(), path, f.description.clone()]
                })
                .collect();
            grid(&mut out, &["CATEGORY", "RULE", "PATH", "DESCRIPTION"], &rows);
            let _ = writeln!(out, "Do not deploy this image: remove the files and rebuild it.");
        }
    }
    if let Some(checks) = &report.baseline {
        use detect::baseline::Outcome;
        let failed: Vec<_> = checks.iter().filter(|c| c.result == Outcome::Failed).collect();
        let passed = checks.iter().filter(|c| c.result == Outcome::Passed).count();
        let _ = writeln!(
            out,
            "\nBaseline: {} failed, {passed} passed, {} not applicable",
            failed.len(),
            checks.len() - failed.len() - passed
        );
        if !failed.is_empty() {
            let rows: Vec<Vec<String>> = failed
                .iter()
                .map(|c| vec![format!("{:?}", c.level), c.id.clone(), c.title.clone(), c.problem.clone()])
                .collect();
            grid(&mut out, &["LEVEL", "ID", "CHECK", "PROBLEM"], &rows);
        }
    }
    if !inv.problems.is_empty() {
        let _ = writeln!(out, "\nThe inventory is partial; {} problem(s):", inv.problems.len());
        for p in &inv.problems {
            let _ = writeln!(out, "  {} {}: {}", p.analyzer, p.path, p.message);
        }
    }
    out
}

fn vulnerabilities(out: &mut String, v: &crate::vulns::VulnReport) {
    let s = &v.summary;
    let _ = writeln!(
        out,
        "Vulnerabilities: {} fix-asap, {} can-delay, {} no-need-now, {} ignored",
        s.fix_asap, s.can_delay, s.no_need_now, s.ignored
    );
    for w in &v.warnings {
        let _ = writeln!(out, "Warning:   {w}");
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = v
        .findings
        .iter()
        .map(|f| {
            vec![
                if f.ignored { format!("{} (ignored)", f.urgency.as_str()) } else { f.urgency.as_str().to_owned() },
                f.id.clone(),
                f.package.clone(),
                f.installed_version.clone(),
                f.fixed_version.clone().unwrap_or_else(|| "-".into()),
                f.cvss_score.map(|s| format!("{s:.1}")).unwrap_or_else(|| "-".into()),
                f.cves.iter().filter(|c| **c != f.id).cloned().collect::<Vec<_>>().join(" "),
            ]
        })
        .collect();
    grid(out, &["URGENCY", "ID", "PACKAGE", "INSTALLED", "FIXED", "CVSS", "CVE"], &rows);
}

fn packages(out: &mut String, report: &Report) {
    out.push('\n');
    let rows: Vec<Vec<String>> = report
        .inventory
        .packages
        .iter()
        .map(|p| {
            let kind = super::serde_name(p.kind);
            vec![p.name.clone(), p.version.clone(), kind, p.location.clone()]
        })
        .collect();
    grid(out, &["NAME", "VERSION", "TYPE", "LOCATION"], &rows);
}

/// Writes aligned columns; the last column is not padded.
fn grid(out: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count()).min(60);
        }
    }
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{:<w$}  ", c, w = widths[i]);
            }
        }
        l.trim_end().to_owned()
    };
    let _ = writeln!(out, "{}", line(headers));
    for r in rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        let _ = writeln!(out, "{}", line(&cells));
    }
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", UNITS[u]) }
}
