import Foundation
import Synchronization

/// Request counts and latencies by route and status, and call-off counts, in Prometheus' text
/// format. Kept in process; credit gauges are read from the store when scraped.
final class DeskMetrics: Sendable {
    /// Latency bucket bounds in seconds.
    static let bucketBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    struct Series: Hashable { let method: String, route: String, status: Int }
    struct Histogram {
        var buckets = [Int](repeating: 0, count: DeskMetrics.bucketBounds.count)
        var count = 0
        var sumSeconds = 0.0
    }

    private let state = Mutex<(requests: [Series: Histogram], callOffs: Int, callOffCredits: Int)>(([:], 0, 0))

    func record(method: String, route: String, status: Int, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock { state in
            var histogram = state.requests[Series(method: method, route: route, status: status)] ?? Histogram()
            histogram.count += 1
            histogram.sumSeconds += seconds
            for (index, bound) in Self.bucketBounds.enumerated() where seconds <= bound { histogram.buckets[index] += 1 }
            state.requests[Series(method: method, route: route, status: status)] = histogram
        }
    }

    func recordCallOff(credits: Int) {
        state.withLock {
            $0.callOffs += 1
            $0.callOffCredits += credits
        }
    }

    /// The exposition text; `gauges` are name → value pairs read from the store.
    func render(gauges: [(name: String, help: String, value: Int)]) -> String {
        let snapshot = state.withLock { $0 }
        var lines = [
            "# HELP credits_http_requests_total HTTP requests by route and status.",
            "# TYPE credits_http_requests_total counter",
        ]
        let series = snapshot.requests.sorted { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }
        for (key, histogram) in series {
            lines.append("credits_http_requests_total{\(labels(key))} \(histogram.count)")
        }
        lines += ["# HELP credits_http_request_duration_seconds Request latency.",
                  "# TYPE credits_http_request_duration_seconds histogram"]
        for (key, histogram) in series {
            for (index, bound) in Self.bucketBounds.enumerated() {
                lines.append("credits_http_request_duration_seconds_bucket{\(labels(key)),le=\"\(bound)\"} \(histogram.buckets[index])")
            }
            lines.append("credits_http_request_duration_seconds_bucket{\(labels(key)),le=\"+Inf\"} \(histogram.count)")
            lines.append("credits_http_request_duration_seconds_sum{\(labels(key))} \(histogram.sumSeconds)")
            lines.append("credits_http_request_duration_seconds_count{\(labels(key))} \(histogram.count)")
        }
        lines += ["# HELP credits_call_offs_total Call-offs accepted by this process.", "# TYPE credits_call_offs_total counter",
                  "credits_call_offs_total \(snapshot.callOffs)",
                  "# HELP credits_called_off_total Credits committed by call-offs accepted by this process.",
                  "# TYPE credits_called_off_total counter", "credits_called_off_total \(snapshot.callOffCredits)"]
        for gauge in gauges {
            lines += ["# HELP \(gauge.name) \(gauge.help)", "# TYPE \(gauge.name) gauge", "\(gauge.name) \(gauge.value)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func labels(_ series: Series) -> String {
        "method=\"\(series.method)\",route=\"\(series.route.replacingOccurrences(of: "\"", with: ""))\",status=\"\(series.status)\""
    }
}
