//! `load agree FIRST SECOND [--within PERCENT]`: whether two saved tables of this package
//! (its stdout, as printed) agree cell by cell, the "two runs back to back" check.
//!
//! A cell is a number in a stack's column or in the ratio column, matched by row name and
//! column name; the spread after it (`±N%`) is not compared. It agrees when the second
//! value is within PERCENT (default 10) of the first: `|second - first| <= first * PERCENT
//! / 100`. Prints every cell that does not, then the count; exits with 1 when any does not
//! or when a cell of one table is missing from the other.

use std::collections::BTreeMap;
use std::process::ExitCode;

/// The numeric cells of a table: (row, column) to value.
pub type Cells = BTreeMap<(String, String), f64>;

/// The numeric cells of a printed table. Lines that are not rows of the table (the
/// heading lines, the rule) are skipped; the first row starting with `| workload |` names
/// the columns.
pub fn parse(table: &str) -> Cells {
    let mut columns: Vec<String> = Vec::new();
    let mut cells = Cells::new();
    for line in table.lines() {
        let Some(inner) = line
            .trim()
            .strip_prefix('|')
            .and_then(|l| l.strip_suffix('|'))
        else {
            continue;
        };
        let fields: Vec<&str> = inner.split('|').map(str::trim).collect();
        if fields.first() == Some(&"workload") {
            columns = fields.iter().map(|f| f.to_string()).collect();
            continue;
        }
        if columns.is_empty() || fields.len() != columns.len() {
            continue;
        }
        // Columns 0 and 1 are the row's name and unit.
        for (column, field) in columns.iter().zip(&fields).skip(2) {
            if let Some(value) = number(field) {
                cells.insert((fields[0].to_string(), column.clone()), value);
            }
        }
    }
    cells
}

/// The number a cell starts with: `1754 ±10%` is 1754, `1.50x` is 1.5, `–` is none.
fn number(field: &str) -> Option<f64> {
    let first = field.split_whitespace().next()?;
    first.strip_suffix('x').unwrap_or(first).parse().ok()
}

/// The cells of `second` not within `percent` of `first`, as (row, column, first,
/// second), and the cells only one table has, as (row, column).
#[allow(clippy::type_complexity)]
pub fn compare(
    first: &Cells,
    second: &Cells,
    percent: f64,
) -> (Vec<(String, String, f64, f64)>, Vec<(String, String)>) {
    let mut apart = Vec::new();
    let mut missing = Vec::new();
    for ((row, column), &a) in first {
        match second.get(&(row.clone(), column.clone())) {
            Some(&b) if (b - a).abs() <= a.abs() * percent / 100.0 => {}
            Some(&b) => apart.push((row.clone(), column.clone(), a, b)),
            None => missing.push((row.clone(), column.clone())),
        }
    }
    for key in second.keys().filter(|k| !first.contains_key(*k)) {
        missing.push(key.clone());
    }
    (apart, missing)
}

/// The `agree` command: arguments after `agree`.
pub fn main(args: &[String]) -> ExitCode {
    let mut files = Vec::new();
    let mut percent = 10.0;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--within" {
            percent = it
                .next()
                .and_then(|p| p.parse().ok())
                .expect("--within PERCENT");
        } else {
            files.push(arg);
        }
    }
    let [a, b] = files[..] else {
        eprintln!("usage: load agree FIRST SECOND [--within PERCENT]");
        return ExitCode::from(2);
    };
    let read = |path: &str| std::fs::read_to_string(path).map(|t| parse(&t));
    let (first, second) = match (read(a), read(b)) {
        (Ok(first), Ok(second)) => (first, second),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("load agree: {e}");
            return ExitCode::from(2);
        }
    };
    let (apart, missing) = compare(&first, &second, percent);
    for (row, column, x, y) in &apart {
        println!(
            "apart: {row} | {column}: {x} then {y} ({:+.0}%)",
            (y - x) / x.abs() * 100.0
        );
    }
    for (row, column) in &missing {
        println!("missing: {row} | {column}");
    }
    println!(
        "{} of {} cells within {percent}%, {} apart, {} in one table only",
        first.len() - apart.len() - missing.iter().filter(|k| first.contains_key(*k)).count(),
        first.len(),
        apart.len(),
        missing.len()
    );
    if apart.is_empty() && missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = "load: a heading line | with a bar\n\n\
        | workload | unit | rfc6455-tokio | tokio-tungstenite | ratio |\n\
        |---|---|--:|--:|--:|\n\
        | 1: binary 16 B: msg/s | k/s | 1754 ±10% | 1165 ±7% | 1.50x |\n\
        | 2: RSS | KiB | 3.55 | – | – |\n";

    #[test]
    fn cells_are_numbers_by_row_and_column() {
        // A row before the header, and one whose cells do not match the header's columns,
        // are not the table's.
        let table = format!("| early | x | 1 | 2 | 3 |\n{FIRST}| 3: short | ms | 5 |\n");
        let cells = parse(&table);
        assert_eq!(cells.len(), 4, "{cells:?}");
        let get = |r: &str, c: &str| cells[&(r.to_string(), c.to_string())];
        assert_eq!(get("1: binary 16 B: msg/s", "rfc6455-tokio"), 1754.0);
        assert_eq!(get("1: binary 16 B: msg/s", "tokio-tungstenite"), 1165.0);
        assert_eq!(get("1: binary 16 B: msg/s", "ratio"), 1.5);
        assert_eq!(get("2: RSS", "rfc6455-tokio"), 3.55);
    }

    #[test]
    fn within_is_relative_to_the_first_value_and_inclusive() {
        let first = parse(FIRST);
        let second = parse(
            &FIRST
                .replace("1754 ±10%", "1578")
                .replace("1165 ±7%", "1281.5")
                .replace("3.55", "3.91"),
        );
        let (apart, missing) = compare(&first, &second, 10.0);
        assert!(missing.is_empty());
        // 1578 is 1754 - 10.03%, 1281.5 is 1165 + 10% exactly (kept), 3.91 is 3.55 + 10.1%;
        // the ratio did not move.
        let keys: Vec<(&str, &str)> = apart.iter().map(|a| (a.0.as_str(), a.1.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("1: binary 16 B: msg/s", "rfc6455-tokio"),
                ("2: RSS", "rfc6455-tokio")
            ],
            "{apart:?}"
        );
        assert_eq!((apart[0].2, apart[0].3), (1754.0, 1578.0));
    }

    #[test]
    fn a_cell_in_one_table_only_is_reported() {
        let first = parse(FIRST);
        let second = parse(&FIRST.replace("| 3.55 |", "| – |"));
        let (apart, missing) = compare(&first, &second, 10.0);
        assert!(apart.is_empty());
        assert_eq!(
            missing,
            [("2: RSS".to_string(), "rfc6455-tokio".to_string())]
        );
        let (_, missing) = compare(&second, &first, 10.0);
        assert_eq!(missing.len(), 1);
    }

    #[test]
    fn the_command_exits_with_what_the_comparison_found() {
        let dir = std::env::temp_dir().join(format!("rfc6455-agree-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        };
        let a = write("a.md", FIRST);
        let b = write("b.md", &FIRST.replace("1754 ±10%", "1500"));
        let run = |args: &[&str]| main(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
        assert_eq!(run(&[&a, &a]), ExitCode::SUCCESS);
        // 1500 is 14.5% under 1754: apart at 10%, within 15%.
        assert_eq!(run(&[&a, &b]), ExitCode::FAILURE);
        assert_eq!(run(&[&a, &b, "--within", "15"]), ExitCode::SUCCESS);
        assert_eq!(run(&["--within", "15", &a, &b]), ExitCode::SUCCESS);
        // A cell only one table has fails it too.
        let c = write("c.md", &FIRST.replace("| 3.55 |", "| – |"));
        assert_eq!(run(&[&a, &c]), ExitCode::FAILURE);
        // Usage errors: one file, a file that is not there.
        assert_eq!(run(&[&a]), ExitCode::from(2));
        let gone = dir.join("gone.md").to_string_lossy().into_owned();
        assert_eq!(run(&[&a, &gone]), ExitCode::from(2));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
