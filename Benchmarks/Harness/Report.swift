import Foundation

/// What one run measured, and RESULTS.md made from it.
struct Report {
    var scale: String
    var binary: String
    var syncedSections = 0
    var rostering: (rows: Int, rest: Double, csvRows: Int, csv: Double, floor: Double) = (0, 0, 0, 0, 0)
    /// Each round's CSV import and floor, in seconds (their medians are `rostering.csv` and `.floor`).
    var rosteringRounds: [(csv: Double, floor: Double)] = []
    /// Peak RSS of `passback roster import` of the district's zip, in MiB.
    var csvPeak = 0.0
    /// `passback roster import` of a zip of about 150,000 users (the sandbox's export line, rows, seconds, peak MiB).
    var bigImport: (students: Int, exported: String, rows: Int, seconds: Double, peak: Double)?
    /// `passback roster import` of a zip bomb: its size, seconds to refusal, peak MiB and the refusal.
    var bomb: (zipBytes: Int, seconds: Double, peak: Double, message: String)?
    var feed: (grades: Int, seconds: Double) = (0, 0)
    var sync = SyncResult()
    var sync429 = SyncResult()
    var sisCapacity = 0.0
    var sync16 = SyncResult()
    var sisCapacity16 = 0.0
    var transport = 0.0, transport16 = 0.0
    var startup: (health: Double, graphQL: Double) = (0, 0)
    var widget: (http: Sample, throughput: Double, floor: Sample, split: (parse: Sample, validate: Sample, execute: Sample, encode: Sample)) =
        (Sample(), 0, Sample(), (Sample(), Sample(), Sample(), Sample()))
    var admin: (errors: Sample, summary: Sample) = (Sample(), Sample())
    /// The query engine against its floors over HTTP, and its section of the report.
    var engine: EngineMeasure?
    var engineText = ""
    var load = LoadResult()
    /// The API's per-request deadline in this run, in seconds.
    var deadline = 10
    var district = SyncResult()
    var districtSections = 0
    var rssWidget = 0.0, rssSync = 0.0, rssEnd = 0.0, rssSync16 = 0.0, rssDistrict = 0.0

    /// The district-wide sync's materials that a rule stopped before anything was sent.
    var heldBack: String {
        let n = district.heldBack.reduce(0) { $0 + $1.items }
        guard n > 0 else { return "" }
        return "; in \(n) sections a rule held the material back and nothing was sent ("
            + district.heldBack.map { "\($0.code): \($0.items)" }.joined(separator: ", ") + ")"
    }

    func markdown(machine: String) -> String {
        let w = widget
        let splitTotal = w.split.parse.p50 + w.split.validate.p50 + w.split.execute.p50 + w.split.encode.p50
        func share(_ s: Sample) -> String { splitTotal > 0 ? "\((100 * s.p50 / splitTotal).f0) %" : "–" }
        let date = ISO8601DateFormatter().string(from: Date())
        return """
            # Benchmark results

            Written by `.build-release/release/passback-bench --scale \(scale)` after `swift build -c release --scratch-path .build-release --product passback && swift build -c release --scratch-path .build-release --product passback-bench` (see `Benchmarks/README.md`), on \(date).
            Machine: \(machine). Release build of `\(URL(fileURLWithPath: binary).lastPathComponent)`; the sandbox SIS and `passback serve` are separate
            processes on loopback; the harness is a third. A shared, noisy machine: read each figure against its reference in the
            same run, not as an absolute.

            ## 1. Widget read: a section's materials with status (the widget's own query, 50 rows)

            | | p50 / p99 (ms) | |
            |---|---|---|
            | GraphQL over HTTP, one client | \(w.http.ms) | |
            | GraphQL over HTTP, 4 clients | | \(w.throughput.f0) requests/s |
            | floor: one plain SQL query + JSONEncoder, in process | \(w.floor.ms) | |
            | **ratio (p50)** | **\((w.http.p50 / max(w.floor.p50, 1e-9)).f1)×** | |

            Where the time of one request goes (in process, no document cache, p50): parse \((w.split.parse.p50 * 1000).f2) ms (\(share(w.split.parse))),
            validate \((w.split.validate.p50 * 1000).f2) ms (\(share(w.split.validate))), execute \((w.split.execute.p50 * 1000).f2) ms (\(share(w.split.execute))),
            encode \((w.split.encode.p50 * 1000).f2) ms (\(share(w.split.encode))). Over HTTP the parse and validate steps come from the document cache.

            ### The query engine against its floor, over HTTP

            The query engine's goal: at least half the floor's requests/s, and a p99 within 3 times the floor's, at 1 and 4
            connections, for the widget's document and for the admin's `syncErrors(first: 50)`.

            \(engineText)

            ## 2. Admin reads over the whole district

            | query | p50 / p99 (ms) |
            |---|---|
            | `syncErrors(first: 50)` with section, school and material | \(admin.errors.ms) |
            | `syncErrorSummary(groupBy: SCHOOL)` | \(admin.summary.ms) |

            ### A simple query beside the heaviest allowed requests

            `{ viewer { role sections(first: 5) { nodes { title } } } }` by a teacher, in five rounds each alone and then while three admins (three
            tokens) each send, back to back, the heaviest request the default limits allow: nine org-wide `syncErrors(first: 100)`
            pages with their sections, schools and materials (static cost 9,099 of 10,000). GraphQL execution runs on its own
            4 threads, off the pool that serves HTTP; the per-request deadline is \(deadline) s (the default); the per-token cost
            bucket and in-flight cap are lifted for the harness (`api.*` in its config), so the heavy clients are not throttled
            and this measures isolation, not refusal. Large requests run only on the pool's two lower-priority threads. In the
            harness, the simple client and each heavy one have a URLSession of their own, and the heavy answers are not decoded,
            so the measured client does not queue behind the harness's own work on the large answers.

            | | p50 / p99 (ms) | requests |
            |---|---|---|
            | simple query alone (all rounds) | \(load.alone.ms) | \(load.alone.count) |
            | simple query beside 3 heavy clients (all rounds) | \(load.loaded.ms) | \(load.loaded.count) |
            | p99 of each round, alone / beside (ms) | \(load.rounds.map { "\($0.alone.ms1) / \($0.loaded.ms1)" }.joined(separator: ", ")) | \(load.rounds.count) rounds |
            | **ratio (median p99 beside / median p99 alone)** | **\(load.ratio.f1)×** (goal: within 3×) | |
            | the heavy requests themselves | \(load.heavy.ms) | \(load.heavy.count) |

            ## 3. Sync throughput: results accepted by the SIS per second

            | | results | seconds | results/s |
            |---|---|---|---|
            | Passback: sync changes, 4 writes in flight (the default) | \(sync.results) | \(sync.seconds.f1) | \(sync.rate.f0) |
            | reference: the sandbox's own PUT capacity (wrk, 4 connections, no Passback) | | 10 | \(sisCapacity.f0) |
            | Passback's transport alone (`URLSessionTransport`, 4 in flight, same PUT, no worker) | | 10 | \(transport.f0) |
            | **ratio** | | | **\((sync.rate / max(sisCapacity, 1e-9) * 100).f0) % of capacity; \((sync.rate / max(transport, 1e-9) * 100).f0) % of the transport alone** |
            | Passback: sync changes, 16 writes in flight (`"concurrency": 16`) | \(sync16.results) | \(sync16.seconds.f1) | \(sync16.rate.f0) |
            | reference: wrk, 16 connections | | 10 | \(sisCapacity16.f0) |
            | Passback's transport alone, 16 in flight | | 10 | \(transport16.f0) |
            | **ratio** | | | **\((sync16.rate / max(sisCapacity16, 1e-9) * 100).f0) % of capacity; \((sync16.rate / max(transport16, 1e-9) * 100).f0) % of the transport alone** |
            | Passback, 4 in flight, with 10 % of answers 429 (Retry-After 1 s), one section | \(sync429.results) | \(sync429.seconds.f1) | \(sync429.rate.f0) |
            | Passback, 16 in flight, district-wide: each remaining section (\(districtSections)) syncs one material | \(district.results) | \(district.seconds.f1) | \(district.rate.f0) |

            A result is counted once the SIS accepted it; the time runs from the first `syncChanges` to an empty outbox (planning,
            lineItems, categories and results included). Each of the first two rows syncs its own \(syncedSections) sections. In the
            district-wide row, for each of the \(districtSections) sections not synced before, its teacher (4 at a time) reads the
            section, saves its category map and calls `syncMaterial` on its first material, while the worker sends what is already queued\(heldBack). Under
            429s every answer with Retry-After holds the whole connection back for that long, as PRODUCT.md asks of a well-behaved
            client; the sandbox draws its 429s at random, not from load, so this row measures the cost of obeying them.

            \(rosteringSection())
            The LMS feed through the product's own mutations (`upsertLmsCourse`, `upsertMaterials`, `recordGrades` by 1,000, 4
            clients): \(feed.grades) grades in \(feed.seconds.f1) s, \((Double(feed.grades) / max(feed.seconds, 1e-9)).f0) grades/s.

            ## 5. Memory: peak RSS of `passback serve`

            | during | peak RSS (MiB) |
            |---|---|
            | the LMS feed and the syncs at 4 in flight | \(rssSync.f0) |
            | the widget reads (after a restart) | \(rssWidget.f0) |
            | the admin reads (cumulative peak) | \(rssEnd.f0) |
            | the sync at 16 in flight (cumulative peak) | \(rssSync16.f0) |
            | the district-wide sync (peak reset before it) | \(rssDistrict.f0) |

            ## 6. Startup on the loaded database

            From spawning `passback serve` to the first `200` of `/healthz`: \(startup.health.f2) s; to the first answered GraphQL query: \(startup.graphQL.f2) s.

            """
    }

    /// Section 4: rostering speed against the floor, and rostering memory.
    func rosteringSection() -> String {
        var text = """
            ## 4. Rostering: rows per second

            | | rows | seconds | rows/s | peak RSS (MiB) |
            |---|---|---|---|---|
            | REST full pull (`passback roster sync`) | \(rostering.rows) | \(rostering.rest.f1) | \((Double(rostering.rows) / max(rostering.rest, 1e-9)).f0) | |
            | CSV zip (`passback roster import`), median of 5 | \(rostering.csvRows) | \(rostering.csv.f2) | \((Double(rostering.csvRows) / max(rostering.csv, 1e-9)).f0) | \(csvPeak.f0) |
            | floor: `sqlite3 .import --csv` of the same files, no checks, no indexes, median of 5 | \(rostering.csvRows) | \(rostering.floor.f2) | \((Double(rostering.csvRows) / max(rostering.floor, 1e-9)).f0) | |
            | **ratio CSV / floor (time, medians)** | | **\((rostering.csv / max(rostering.floor, 1e-9)).f1)×** (goal: within 3×) | | |

            The five rounds, each the import into a new database then the floor into another (seconds): \(rosteringRounds.map { "\($0.csv.f2) / \($0.floor.f2)" }.joined(separator: ", ")).

            """
        if bigImport != nil || bomb != nil {
            text += """

                Bounded memory (each a separate `passback roster import` process; peak RSS is its `ru_maxrss` from `wait4`):

                | input | seconds | peak RSS (MiB) | outcome |
                |---|---|---|---|

                """
            if let b = bigImport {
                text +=
                    "| the sandbox's `--size \(b.students)` export (\(b.exported)) | \(b.seconds.f1) | \(b.peak.f0) | \(b.rows) rows imported (goal at full scale: under 200 MiB) |\n"
            }
            if let b = bomb {
                text +=
                    "| a zip bomb: \(b.zipBytes) bytes holding a 1 GiB `users.csv` of zeros | \(b.seconds.f2) | \(b.peak.f0) | refused: `\(b.message)` (goal: seconds, under 100 MiB) |\n"
            }
        }
        return text
    }

    /// The rostering section alone, for `--only rostering`.
    func rosteringMarkdown(machine: String, command: String) -> String {
        """
        # Rostering benchmark results

        Written by `\(command)` after `swift build -c release --product passback-bench --build-path .build-release`
        (and the same for `--product passback`), on \(ISO8601DateFormatter().string(from: Date())).
        Machine: \(machine). Release build of `\(URL(fileURLWithPath: binary).lastPathComponent)`; the sandbox SIS and each `passback`
        command are separate processes on loopback. A shared, noisy machine: read each figure against its reference in the same run.

        \(rosteringSection())
        """
    }
}
