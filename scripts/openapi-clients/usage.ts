// A script's use of the generated TypeScript types with openapi-fetch:
// scripts/check-openapi-clients generates schema.d.ts from the served
// /schema beside this file and compiles it with `tsc --strict`, so a change
// to openapi.yaml that breaks a typed client fails CI.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type MedicalRecord = components["schemas"]["MedicalRecord"];

export async function upcomingTreatments(baseUrl: string, email: string, password: string): Promise<MedicalRecord[]> {
  const api = createClient<paths>({ baseUrl });

  const login = await api.POST("/api/auth/login", { body: { email, password } });
  if (login.error) throw new Error(`login: ${login.error.message}`);
  const auth = { Authorization: `Bearer ${login.data.access_token}` };

  const records: MedicalRecord[] = [];
  for (let page = 1; ; page++) {
    const { data, error } = await api.GET("/api/medical-records", {
      headers: auth,
      params: { query: { page, page_size: 100, ordering: "date_of_treatment", date_of_treatment_after: "2026-01-01" } },
    });
    if (error) throw new Error(`list: ${error.message}`);
    records.push(...data.results);
    if (data.next === null) break;
  }

  if (records.length > 0) {
    const first = records[0];
    const one = await api.GET("/api/medical-records/{id}", { headers: auth, params: { path: { id: first.id } } });
    if (one.error) throw new Error(`read: ${one.error.message}`);
    const changed = await api.PATCH("/api/medical-records/{id}", {
      headers: { ...auth, "If-Match": one.response.headers.get("ETag") ?? "*" },
      params: { path: { id: first.id } },
      body: { treatment: null },
    });
    if (changed.error) throw new Error(`update: ${changed.error.message}`);
  }
  return records;
}

// Staff: an account made without is_staff (optional: omitted means false),
// and the audit trail filtered by a closed-valued action.
export async function onboard(baseUrl: string, token: string): Promise<string[]> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
  const created = await api.POST("/api/users", {
    body: { email: "ann@example.org", first_name: "Ann", last_name: "Lee", password: "Vq7!plum-Orbit-42" },
  });
  if (created.error) throw new Error(`create user: ${created.error.message}`);
  const events = await api.GET("/api/audit-events", { params: { query: { action: "user.create", entity_id: created.data.id } } });
  if (events.error) throw new Error(`audit: ${events.error.message}`);
  const action: components["schemas"]["AuditAction"] = "user.create";
  return events.data.results.filter((e) => e.action === action).map((e) => e.id);
}
