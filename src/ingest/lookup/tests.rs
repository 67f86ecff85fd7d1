use super::*;
use crate::rules::Severity;
use chrono::Utc;

fn place(source: u32, offset: u64, line: &str) -> Evidence {
    Evidence::unresolved(Utc::now(), source, offset, line_digest(line.as_bytes()))
}

fn incident(evidence: Vec<Evidence>) -> Incident {
    Incident {
        id: "x".into(),
        rule: "r".into(),
        severity: Severity::Low,
        title: String::new(),
        group: vec![],
        first_seen: Utc::now(),
        last_seen: Utc::now(),
        count: 1,
        distinct: None,
        evidence,
        open: true,
    }
}

fn texts(inc: &Incident) -> Vec<&str> {
    inc.evidence.iter().map(|e| &*e.raw).collect()
}

#[test]
fn unresolved_evidence_is_read_back_by_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.log");
    std::fs::write(&path, "first\r\nsecond line\nthird").unwrap();
    let mut inc = incident(vec![
        place(0, 7, "second line"),
        place(0, 0, "first"),
        place(0, 19, "third"),
        place(1, 0, "first"),
    ]);
    resolve_evidence(std::slice::from_mut(&mut inc), &[path]);
    assert_eq!(
        texts(&inc),
        [
            "second line",
            "first",
            "third",
            "[line not available: source cannot be read back]"
        ]
    );
}

#[test]
fn after_rotations_the_line_is_found_in_its_rotated_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kern.log");
    // Generation 1 holds the probe; it is rotated to .1, then to .2 and compressed, while
    // generation 2 (now .1) and 3 (the followed file) have other lines at the same offsets.
    std::fs::write(dir.path().join("kern.log.1"), "other 1\nother 2\n").unwrap();
    let old = crate::ingest::compressed::tests::gzip(b"probe A\nprobe B\n");
    std::fs::write(dir.path().join("kern.log.2.gz"), old).unwrap();
    std::fs::write(&path, "live 1\nprobe C\n").unwrap();
    let mut inc = incident(vec![
        place(0, 8, "probe B"),
        place(0, 7, "probe C"),
        place(0, 8, "other 2"),
        place(0, 0, "probe A"),
    ]);
    resolve_evidence(std::slice::from_mut(&mut inc), &[path]);
    assert_eq!(texts(&inc), ["probe B", "probe C", "other 2", "probe A"]);
}

#[test]
fn a_line_rotated_away_is_reported_never_replaced_by_another() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vsftpd.log");
    std::fs::write(&path, "a new line at offset zero\n").unwrap();
    std::fs::write(dir.path().join("vsftpd.log.1"), "also another line\n").unwrap();
    let mut inc = incident(vec![place(0, 0, "the line that was read")]);
    resolve_evidence(std::slice::from_mut(&mut inc), &[path]);
    assert_eq!(texts(&inc), ["[line not available: rotated away]"]);
}

#[test]
fn the_reader_remembers_lines_it_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.log");
    std::fs::write(&path, "one\ntwo\n").unwrap();
    let mut reader = EvidenceReader::default();
    let mut inc = incident(vec![place(0, 4, "two")]);
    reader.resolve(std::slice::from_mut(&mut inc), std::slice::from_ref(&path));
    // The file is rotated away and deleted: the remembered line still answers.
    std::fs::remove_file(&path).unwrap();
    let mut again = incident(vec![place(0, 4, "two")]);
    reader.resolve(std::slice::from_mut(&mut again), &[path]);
    assert_eq!(texts(&again), ["two"]);
}
