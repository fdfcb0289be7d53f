//! mesh extensions the freshness monitor and gateway rely on: active hours, durations, the
//! `_mesh.contracts` record round trip.

use mesh_contract::extensions::parse_active_hours;
use mesh_contract::reader::parse_duration_ms;

/// 2026-11-27 (a Friday) at `h:m` UTC, in Unix milliseconds.
fn fri(h: i64, m: i64) -> i64 {
    let days = 20_784; // 2026-11-27 since 1970-01-01
    (days * 1440 + h * 60 + m) * 60_000
}

#[test]
fn active_hours_windows() {
    let h = parse_active_hours("Mon-Fri 08:00-20:00").unwrap();
    assert_eq!(
        (h.days.clone(), h.start_minute, h.end_minute),
        (vec![1, 2, 3, 4, 5], 480, 1200)
    );
    assert!(h.contains(fri(8, 0)));
    assert!(h.contains(fri(19, 59)));
    assert!(!h.contains(fri(20, 0)));
    assert!(!h.contains(fri(7, 59)));
    assert!(!h.contains(fri(12, 0) + 86_400_000), "Saturday");

    // Past midnight: Friday 22:00 → Saturday 02:00 belongs to Friday's window.
    let night = parse_active_hours("Fri 22:00-02:00").unwrap();
    assert!(night.contains(fri(23, 0)));
    assert!(night.contains(fri(1, 0) + 86_400_000));
    assert!(
        !night.contains(fri(1, 0)),
        "Friday 01:00 is Thursday's night"
    );

    let all = parse_active_hours("daily 00:00-24:00").unwrap();
    assert!(all.contains(fri(0, 0)) && all.contains(fri(23, 59)));
    let weekend = parse_active_hours("Sat,Sun 10:00-14:00").unwrap();
    assert_eq!(weekend.days, vec![6, 7]);
    for bad in [
        "",
        "Mon-Fri",
        "Funday 08:00-09:00",
        "Mon 25:00-26:00",
        "Mon 08:00",
    ] {
        assert!(parse_active_hours(bad).is_none(), "{bad}");
    }
}

#[test]
fn durations() {
    assert_eq!(parse_duration_ms("500ms"), Some(500));
    assert_eq!(parse_duration_ms("90s"), Some(90_000));
    assert_eq!(parse_duration_ms("5m"), Some(300_000));
    assert_eq!(parse_duration_ms("1.5h"), Some(5_400_000));
    assert_eq!(parse_duration_ms("2 days"), Some(172_800_000));
    assert_eq!(parse_duration_ms("5 parsecs"), None);
    assert_eq!(parse_duration_ms("m"), None);
}
