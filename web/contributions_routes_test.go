package web_test

func init() { moreRouteCases = append(moreRouteCases, contributionRouteCases) }

func contributionRouteCases() []routeCase {
	// Evaluators and platform admins see their scope, a teacher its own record, nobody else anything.
	api := statuses{"anonymous": 401, "teacher": 200, "evaluator": 200, "platform_admin": 200, "*": 403}
	return []routeCase{
		{method: "GET", pattern: "/api/v1/contributions", path: fixed("/api/v1/contributions?from=2026-09-01&to=2026-10-01"), want: api},
		{method: "GET", pattern: "/contributions", page: true, path: fixed("/contributions?from=2026-09-01&to=2026-10-01"),
			want: statuses{"anonymous": 303, "teacher": 303, "evaluator": 200, "platform_admin": 200, "*": 403}},
		{method: "GET", pattern: "/contributions/export", page: true, path: fixed("/contributions/export?from=2026-09-01&to=2026-10-01&format=csv"),
			want: statuses{"anonymous": 303, "teacher": 200, "evaluator": 200, "platform_admin": 200, "*": 403}},
		{method: "GET", pattern: "/space/contributions", page: true, path: fixed("/space/contributions"),
			want: statuses{"anonymous": 303, "teacher": 200, "*": 403}},
	}
}
