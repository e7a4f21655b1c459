def test_signup_page_renders(client):
    response = client.get("/signup")
    assert response.status_code == 200
    assert b'name="age_confirmed"' in response.data
