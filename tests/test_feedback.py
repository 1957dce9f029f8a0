"""rag.web.feedback: the feedback and unanswered-questions log (SQLite, standard library)."""

from __future__ import annotations

import csv
import io
import multiprocessing
import sqlite3
import threading

import pytest

from rag.config import Settings, from_env, zone_of
from rag.errors import RagError
from rag.web.feedback import FILENAME, FeedbackError, FeedbackLog, Record, zone_name

REC = Record("现代医药港占地多大？", "现代医药港占地多大？", "现代医药港占地4平方公里。",
             ("《菏泽开发区：高标准打造现代医药港》第2段，heze.txt [10–40]",))
GDP = Record("菏泽的GDP是多少？", "菏泽的GDP是多少？", "这几期报纸没有提到“GDP”。", ())


def test_votes_and_refusals_are_stored_with_what_the_reply_said(tmp_path):
    log = FeedbackLog(tmp_path)
    log.record("r1", "down", REC, at="2026-11-02T08:00:00+00:00")
    log.record("r2", "refused", GDP, at="2026-11-02T09:00:00+00:00")
    rows = {u.question: u for u in log.unanswered()}
    assert set(rows) == {REC.question, GDP.question}
    u = rows[REC.question]
    assert (u.times, u.down, u.refused, u.query, u.answer, u.citations) == (1, 1, 0, REC.query, REC.answer, REC.citations)
    assert rows[GDP.question].refused == 1
    # only what a reply said and when: no column about the asker
    con = sqlite3.connect(tmp_path / FILENAME)
    cols = [r[1] for r in con.execute("PRAGMA table_info(verdicts)")]
    assert cols == ["id", "reply", "rating", "at", "question", "query", "answer", "citations"]
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_changed_vote_replaces_the_earlier_one_and_can_be_withdrawn(tmp_path):
    log = FeedbackLog(tmp_path)
    log.record("r1", "up", REC)
    log.record("r1", "down", REC)
    assert (log.count("up"), log.count("down")) == (0, 1)
    log.withdraw("r1")
    assert log.count() == 0 and log.unanswered() == []


def test_most_frequent_first_and_a_refused_reply_voted_down_counts_once(tmp_path):
    log = FeedbackLog(tmp_path)
    for i in range(3):
        log.record(f"g{i}", "refused", GDP)
    log.record("g0", "down", GDP)  # the same reply: still 3 replies
    log.record("m1", "down", REC)
    log.record("ok", "up", Record("好问题", "好问题", "答", ()))  # liked and answered: not listed
    rows = log.unanswered()
    assert [(u.question, u.times) for u in rows] == [(GDP.question, 3), (REC.question, 1)]
    assert (rows[0].refused, rows[0].down) == (3, 1)


def test_count_per_day(tmp_path):
    log = FeedbackLog(tmp_path)
    log.record("a", "refused", GDP, at="2026-11-01T23:59:00+00:00")
    log.record("b", "down", REC, at="2026-11-02T00:01:00+00:00")
    log.record("c", "up", REC, at="2026-11-02T10:00:00+00:00")
    assert log.per_day() == [("2026-11-02", 0, 1, 1), ("2026-11-01", 1, 0, 0)]


def test_csv_export_reads_in_a_spreadsheet_and_defuses_formulas(tmp_path):
    log = FeedbackLog(tmp_path)
    # the latest first: times given, so that a slow machine does not reorder the rows
    log.record("a", "refused", Record("=HYPERLINK(\"http://x\")", "q", "-1", ("《标题》第1段，a.txt [1–2]",)),
               at="2026-11-02T09:00:00+00:00")
    log.record("b", "down", REC, at="2026-11-02T08:00:00+00:00")
    text = log.csv_text()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:3] == ["question", "times", "refused"]
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")" and rows[1][8] == "'-1"
    assert rows[2][0] == REC.question and rows[2][9] == REC.citations[0]


def test_the_log_survives_a_restart(tmp_path):
    FeedbackLog(tmp_path).record("r1", "down", REC)
    assert [u.question for u in FeedbackLog(tmp_path).unanswered()] == [REC.question]


def _write_many(folder, who, n):
    log = FeedbackLog(folder)
    for i in range(n):
        log.record(f"{who}-{i}", "refused" if i % 2 else "down", Record(f"问题{who}-{i}", "q", "a", ("c",)))


def test_concurrent_writers_lose_nothing(tmp_path):
    threads = [threading.Thread(target=_write_many, args=(tmp_path, f"t{k}", 25)) for k in range(4)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(tmp_path, f"p{k}", 25)) for k in range(3)]
    for x in threads + procs:
        x.start()
    for x in threads + procs:
        x.join(120)
    assert all(p.exitcode == 0 for p in procs)
    assert FeedbackLog(tmp_path).count() == 7 * 25


def test_a_newer_schema_is_refused_not_misread(tmp_path):
    FeedbackLog(tmp_path)
    con = sqlite3.connect(tmp_path / FILENAME)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(FeedbackError, match="version 99"):
        FeedbackLog(tmp_path)


def test_bad_rating_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="rating"):
        FeedbackLog(tmp_path).record("r", "meh", REC)


def test_log_folder_comes_from_the_environment(tmp_path):
    assert from_env({"RAG_LOG_DIR": str(tmp_path / "logs")}).log_dir == tmp_path / "logs"
    assert from_env({}).log_dir.name == "log"


# ------------------------------------------------------------ staff times in a time zone

SHANGHAI = zone_of("Asia/Shanghai")


def test_days_are_counted_in_the_zone_asked_for(tmp_path):
    log = FeedbackLog(tmp_path)
    log.record("a", "refused", GDP, at="2026-11-01T15:59:00+00:00")  # 23:59 in Shanghai
    log.record("b", "down", REC, at="2026-11-01T16:01:00+00:00")  # 00:01 on the 2nd in Shanghai
    log.record("c", "up", REC, at="2026-11-01T16:30:00+00:00")
    assert log.per_day() == [("2026-11-01", 1, 1, 1)]  # one UTC day
    assert log.per_day(zone=SHANGHAI) == [("2026-11-02", 0, 1, 1), ("2026-11-01", 1, 0, 0)]
    assert log.per_day(1, zone=SHANGHAI) == [("2026-11-02", 0, 1, 1)]  # the newest days first


def test_a_summer_time_zone_moves_the_day_boundary_with_the_season(tmp_path):
    log = FeedbackLog(tmp_path)
    log.record("a", "down", REC, at="2026-07-01T22:30:00+00:00")  # Berlin is UTC+2 in July: the 2nd
    log.record("b", "down", GDP, at="2026-12-01T22:30:00+00:00")  # UTC+1 in December: 23:30 on the 1st
    assert [d for d, *_ in log.per_day(zone=zone_of("Europe/Berlin"))] == ["2026-12-01", "2026-07-02"]


def test_unanswered_times_and_the_csv_are_in_the_zone_and_say_which(tmp_path):
    log = FeedbackLog(tmp_path)
    log.record("a", "refused", GDP, at="2026-11-01T16:30:00+00:00")
    [u] = log.unanswered(zone=SHANGHAI)
    assert (u.first, u.last) == ("2026-11-02T00:30:00+08:00", "2026-11-02T00:30:00+08:00")
    assert log.unanswered()[0].last == "2026-11-01T16:30:00+00:00"  # UTC unless asked
    rows = list(csv.reader(io.StringIO(log.csv_text(SHANGHAI)[1:])))
    assert rows[0][5:7] == ["first (Asia/Shanghai)", "last (Asia/Shanghai)"]
    assert rows[1][5] == "2026-11-02T00:30:00+08:00"
    assert list(csv.reader(io.StringIO(log.csv_text()[1:])))[0][5] == "first (UTC)"


def test_time_zone_setting_defaults_to_shanghai_and_a_bad_name_is_a_one_line_error():
    assert Settings().time_zone == "Asia/Shanghai" and zone_name(Settings().zone) == "Asia/Shanghai"
    assert zone_name(from_env({"RAG_TIMEZONE": " Europe/Berlin "}).zone) == "Europe/Berlin"
    assert zone_name(from_env({"RAG_TIMEZONE": "UTC"}).zone) == "UTC"
    for bad in ("Mars/Base", "asia/shanghai", "Asia", "../etc/passwd", "/etc/localtime", "UTC+8"):
        with pytest.raises(RagError, match=r"RAG_TIMEZONE \(.*\) is not a known time zone.*Asia/Shanghai") as e:
            from_env({"RAG_TIMEZONE": bad})
        assert "\n" not in str(e.value) and bad in str(e.value)
    with pytest.raises(ValueError, match="time zone"):
        Settings(time_zone="Nowhere/City")


def test_the_default_zone_works_without_the_iana_database(monkeypatch):
    import zoneinfo

    def missing(key):
        raise zoneinfo.ZoneInfoNotFoundError(key)

    monkeypatch.setattr(zoneinfo, "ZoneInfo", missing)
    zone = zone_of("Asia/Shanghai")
    assert zone.utcoffset(None).total_seconds() == 8 * 3600 and zone_name(zone) == "Asia/Shanghai"
    assert zone_name(zone_of("UTC")) == "UTC"
    with pytest.raises(RagError):
        zone_of("Europe/Berlin")
