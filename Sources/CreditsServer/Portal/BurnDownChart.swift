import CreditsCore

/// Draws a `BurnDown` as inline SVG: no script, no image request, readable when printed.
/// Coordinates are integers (the chart is drawn in a fixed view box and scaled by CSS).
enum BurnDownChart {
    static let width = 640
    static let height = 240
    static let margin = (left: 44, right: 12, top: 12, bottom: 28)

    static func svg(_ chart: BurnDown, id: String) -> String {
        let all = chart.history + chart.projection
        guard let first = all.map(\.on).min(), let last = all.map(\.on).max() else { return "" }
        let span = max(first.days(until: last), 1)
        let top = max(all.map { max($0.purchased, $0.balance, $0.used, $0.expired) }.max() ?? 0, 1)
        let plotWidth = width - margin.left - margin.right
        let plotHeight = height - margin.top - margin.bottom
        func x(_ date: CalendarDate) -> Int { margin.left + first.days(until: date) * plotWidth / span }
        func y(_ credits: Int) -> Int { margin.top + plotHeight - credits * plotHeight / top }
        func line(_ points: [BurnDown.Point], _ value: (BurnDown.Point) -> Int, _ style: String) -> String {
            // Steps: a value holds until the next change.
            var path: [String] = []
            for (index, point) in points.enumerated() {
                if index > 0 { path.append("\(x(point.on)),\(y(value(points[index - 1])))") }
                path.append("\(x(point.on)),\(y(value(point)))")
            }
            return "<polyline class=\"\(style)\" points=\"\(path.joined(separator: " "))\"/>"
        }
        func projected(_ value: (BurnDown.Point) -> Int, _ style: String) -> String {
            let points = chart.projection.map { "\(x($0.on)),\(y(value($0)))" }
            return "<polyline class=\"\(style) projected\" points=\"\(points.joined(separator: " "))\"/>"
        }
        let today = chart.projection.first?.on ?? last
        var parts = [
            "<svg class=\"burn-down\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-labelledby=\"\(id)-title \(id)-desc\" xmlns=\"http://www.w3.org/2000/svg\">",
            "<title id=\"\(id)-title\">\(chart.program) credits over time</title>",
            "<desc id=\"\(id)-desc\">\(description(chart))</desc>",
        ]
        for credits in [0, top / 2, top] {
            parts.append("<line class=\"grid\" x1=\"\(margin.left)\" x2=\"\(width - margin.right)\" y1=\"\(y(credits))\" y2=\"\(y(credits))\"/>")
            parts.append("<text class=\"axis\" x=\"\(margin.left - 6)\" y=\"\(y(credits) + 4)\" text-anchor=\"end\">\(credits)</text>")
        }
        parts.append("<line class=\"today\" x1=\"\(x(today))\" x2=\"\(x(today))\" y1=\"\(margin.top)\" y2=\"\(height - margin.bottom)\"/>")
        var labels = [(first, "start"), (last, "end")]
        if today != first && today != last { labels.append((today, "middle")) }
        for (date, anchor) in labels {
            parts.append("<text class=\"axis\" x=\"\(x(date))\" y=\"\(height - 8)\" text-anchor=\"\(anchor)\">\(date)</text>")
        }
        parts.append(line(chart.history, \.purchased, "purchased"))
        parts.append(line(chart.history, \.used, "used"))
        parts.append(line(chart.history, \.expired, "expired"))
        parts.append(line(chart.history, \.balance, "balance"))
        if chart.projection.count > 1 {
            parts.append(projected(\.used, "used"))
            parts.append(projected(\.expired, "expired"))
            parts.append(projected(\.balance, "balance"))
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    /// The chart in words, for screen readers and for the page's caption.
    static func description(_ chart: BurnDown) -> String {
        let now = chart.history.last!
        var text = "Bought \(now.purchased), used \(now.used), expired \(now.expired), \(now.balance) available."
        if let end = chart.projection.last, chart.projection.count > 1 {
            let lost = end.expired - now.expired
            text += " At the pace of the last \(BurnDown.rateWindowDays) days (\(chart.usedInWindow) credits)"
            text += lost > 0 ? ", \(lost) more would expire by \(end.on)." : ", all would be used by \(end.on)."
        }
        return text
    }
}
