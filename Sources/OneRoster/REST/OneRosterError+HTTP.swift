import Foundation

extension OneRosterError {
    /// The error an HTTP answer stands for, classified.
    public init(operation: String, response: HTTPResponse) {
        let body = ErrorBody.parse(response.body, contentType: response.headers["Content-Type"])
        let excerpt = ErrorBody.excerpt(response.body)
        self.init(
            kind: Self.classify(status: response.status, bodyText: excerpt ?? ""), operation: operation,
            httpStatus: response.status, body: body, bodyExcerpt: excerpt,
            retryAfter: response.headers["Retry-After"].flatMap(RetryAfter.parse))
    }
}
