import Billing
import Domain
import Foundation
import Testing

/// The pure parts of the usage read side: timestamps, periods, fixed-point text, CSV and the export encoder.
@Suite struct UsageFormatTests {
    static func date(_ seconds: Int64, micros: Int64 = 0) -> Date {
        Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    @Test(arguments: [
        ("2026-11-01T00:00:00Z", Int64(1_793_491_200), Int64(0)),
        ("2026-11-01t00:00:00z", 1_793_491_200, 0),
        ("2026-11-01T02:00:00+02:00", 1_793_491_200, 0),
        ("2026-10-31T19:30:00-04:30", 1_793_491_200, 0),
        ("2026-11-01T00:00:00.5Z", 1_793_491_200, 500_000),
        ("2026-11-01T00:00:00.123456Z", 1_793_491_200, 123_456),
        ("2026-11-01T00:00:00.1234567Z", 1_793_491_200, 123_456),
        ("2024-02-29T12:00:00Z", 1_709_208_000, 0),
        ("1970-01-01T00:00:00Z", 0, 0),
        ("2026-10-31T23:59:60Z", 1_793_491_200, 0),
    ])
    func parsesRFC3339(_ text: String, _ seconds: Int64, _ micros: Int64) throws {
        let date = try #require(RFC3339.parse(text))
        #expect(abs(date.timeIntervalSince(Self.date(seconds, micros: micros))) < 0.000_000_5, "\(text)")
    }

    @Test(arguments: [
        "", "2026-11-01", "2026-11-01T00:00:00", "2026-11-01 00:00:00Z", "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-11-01T24:00:00Z", "2026-11-01T00:60:00Z", "2026-11-01T00:00:61Z", "2026-11-01T00:00:00.Z",
        "2026-11-01T00:00:00+0200", "2026-11-01T00:00:00+24:00", "2026-11-01T00:00:00Zjunk", "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01", "+2026-11-01T00:00:00Z", "２０２６-11-01T00:00:00Z",
        "2026-11-01T00:00:00 02:00", "now", "1e9",
    ])
    func refusesWhatIsNotAnInstant(_ text: String) {
        #expect(RFC3339.parse(text) == nil, "\(text)")
    }

    @Test func formatsInUTCWithMicrosecondsOnlyWhenThereAreAny() throws {
        #expect(RFC3339.format(Self.date(1_793_491_200)) == "2026-11-01T00:00:00Z")
        #expect(RFC3339.format(Self.date(1_793_491_200, micros: 123_456)) == "2026-11-01T00:00:00.123456Z")
        #expect(RFC3339.format(Self.date(1_793_491_200, micros: 1)) == "2026-11-01T00:00:00.000001Z")
        #expect(RFC3339.format(Self.date(-1)) == "1969-12-31T23:59:59Z")
        #expect(RFC3339.compact(Self.date(1_793_491_200, micros: 5)) == "20261101T000000Z")
        for text in ["2026-03-31T23:30:00.000001Z", "2000-02-29T12:34:56.789Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
            let date = try #require(RFC3339.parse(text))
            let again = try #require(RFC3339.parse(RFC3339.format(date)))
            #expect(abs(again.timeIntervalSince(date)) < 0.001, "\(text)")
        }
        #expect(RFC3339.format(try #require(RFC3339.parse("2000-02-29T12:34:56.789Z"))) == "2000-02-29T12:34:56.789000Z")
    }

    @Test func periodsAreNonEmptyAndAtMost366Days() throws {
        let start = Self.date(1_767_225_600)  // 2026-01-01
        #expect(throws: UsagePeriod.Problem.notAfterStart) { try UsagePeriod(from: start, to: start) }
        #expect(throws: UsagePeriod.Problem.notAfterStart) { try UsagePeriod(from: start, to: start.addingTimeInterval(-1)) }
        #expect(throws: UsagePeriod.Problem.tooLong) { try UsagePeriod(from: start, to: start.addingTimeInterval(366 * 86_400 + 1)) }
        let longest = try UsagePeriod(from: start, to: start.addingTimeInterval(366 * 86_400))
        #expect(longest.to.timeIntervalSince(longest.from) == 366 * 86_400)
    }

    @Test func monthToDateStartsAtTheUTCMonthOfTheLastInstant() throws {
        let now = try #require(RFC3339.parse("2026-11-23T04:36:12.5Z"))
        let period = UsagePeriod.monthToDate(endingAt: now)
        #expect(RFC3339.format(period.from) == "2026-11-01T00:00:00Z")
        #expect(period.to == now)
        // At the very first instant of a month, the whole previous month, never an empty period.
        let boundary = try #require(RFC3339.parse("2026-03-01T00:00:00Z"))
        #expect(RFC3339.format(UsagePeriod.monthToDate(endingAt: boundary).from) == "2026-02-01T00:00:00Z")
        let january = try #require(RFC3339.parse("2026-01-01T00:00:00.000001Z"))
        #expect(RFC3339.format(UsagePeriod.monthToDate(endingAt: january).from) == "2026-01-01T00:00:00Z")
    }

    @Test func fixedPointTextIsExact() {
        #expect(FixedPoint.amount(micros: 54_000) == "0.054000")
        #expect(FixedPoint.amount(micros: 0) == "0.000000")
        #expect(FixedPoint.amount(micros: 1_234_567_891) == "1234.567891")
        #expect(FixedPoint.amount(micros: Int64.max) == "9223372036854.775807")
        #expect(FixedPoint.amount(micros: -1) == "-0.000001")
        #expect(FixedPoint.format(1_500, scale: 3) == "1.5")
        #expect(FixedPoint.format(2_000, scale: 3) == "2")
        #expect(FixedPoint.format(250, scale: 3) == "0.25")
        #expect(FixedPoint.format(7_200_000_001, scale: 6) == "7200.000001")
        #expect(FixedPoint.format(42, scale: 0) == "42")
    }

    @Test func csvQuotesAsRFC4180AndNeutralisesFormulas() {
        #expect(CSV.record([.text("plain"), .literal("1.5")]) == "plain,1.5\r\n")
        #expect(CSV.record([.text("a,b"), .text("say \"hi\""), .text("two\nlines"), .text("cr\rhere")])
                == "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\"\r\n")
        #expect(CSV.record([.text("=HYPERLINK(\"http://x\")"), .text("+1"), .text("-2"), .text("@SUM(A1)"), .text("\tx"), .text("a=b")])
                == "\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-2,'@SUM(A1),'\tx,a=b\r\n")
        // Numbers we write ourselves are never touched.
        #expect(CSV.record([.literal("-1"), .text("")]) == "-1,\r\n")
        #expect(CSV.record([.text("=1,2")]) == "\"'=1,2\"\r\n")
    }

    @Test func exportEncoderWritesCSVAndJSON() throws {
        let period = try UsagePeriod(from: try #require(RFC3339.parse("2026-03-01T00:00:00Z")), to: try #require(RFC3339.parse("2026-04-01T00:00:00Z")))
        let tenant = try #require(TenantID("11111111-1111-1111-1111-111111111111"))
        let workspace = try #require(WorkspaceID("22222222-2222-2222-2222-222222222222"))
        let row = UsageExportRow(
            tenantID: tenant, workspaceID: workspace, workspaceName: "alpha", serverName: "-evil,server",
            startedAt: try #require(RFC3339.parse("2026-03-10T10:00:00Z")), endedAt: try #require(RFC3339.parse("2026-03-10T12:00:00.5Z")),
            microseconds: 7_200_500_000, cpuMillis: 1500, memoryMB: 2048, diskGB: 10, currency: "EUR", costMicros: 54_004
        )
        var csv = UsageExportEncoder(format: .csv, period: period)
        let csvText = String(decoding: csv.prologue() + (try csv.encode([row, row])) + csv.epilogue(), as: UTF8.self)
        let header = "tenant_id,workspace_id,workspace_name,server_name,started_at,ended_at,seconds,cpu,memory_mb,disk_gb,currency,cost_micros\r\n"
        let line = "11111111-1111-1111-1111-111111111111,22222222-2222-2222-2222-222222222222,alpha,\"'-evil,server\","
            + "2026-03-10T10:00:00Z,2026-03-10T12:00:00.500000Z,7200.5,1.5,2048,10,EUR,54004\r\n"
        #expect(csvText == header + line + line)
        #expect(csv.fileName == "berth-usage-20260301T000000Z-20260401T000000Z.csv")
        #expect(csv.format.contentType == "text/csv; charset=utf-8")

        var json = UsageExportEncoder(format: .json, period: period)
        var bytes = json.prologue()
        bytes += try json.encode([row])
        bytes += try json.encode([])
        var noServer = row
        noServer.serverName = nil
        bytes += try json.encode([noServer])
        bytes += json.epilogue()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["period"] as? [String: String] == ["from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows[0]["server_name"] as? String == "-evil,server")
        #expect(rows[1]["server_name"] is NSNull)
        #expect(rows[0]["seconds"] as? Double == 7200.5)
        #expect(rows[0]["cpu"] as? Double == 1.5)
        #expect(rows[0]["cost_micros"] as? Int == 54_004)
        #expect(rows[0]["ended_at"] as? String == "2026-03-10T12:00:00.500000Z")
        #expect(Set(rows[0].keys).count == 12)
    }
}
