def test_health_reports_the_database_and_the_broker_state(client, db):
    body = client.get("/api/health/").json()
    assert body["database"]["ok"] is True
    assert set(body) >= {"database", "broker", "workers", "ok"}
    assert "count" in body["workers"]


def test_the_openapi_schema_and_its_docs_page_are_served(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_pages_need_a_login(client, db):
    response = client.get("/cases/")
    assert response.status_code == 302 and "/login/" in response["Location"]
