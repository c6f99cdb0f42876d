// Package web is Ziyuan's HTTP face: the Fiber application with its routes, middleware (request
// IDs, logs, recovery, security headers, metrics, sign-in, CSRF), the JSON API under /api/v1,
// the server-rendered pages (html/template, embedded with go:embed, zh-CN first with English),
// the one table that maps domain error codes to HTTP statuses, and the OpenAPI document.
//
// It holds no business rules: handlers decode input, call market, and render what comes back.
package web
