// Custom roles and user editing through the API [ADM-1, ADM-2, SEC-1]: roles defined from a list of
// permissions, read with an ETag, changed and deleted with If-Match; users read and edited; nobody
// grants what it does not hold, nor disables or demotes itself; a role's new permissions and a
// user's new role or projects hold from the next request on.
#include <gtest/gtest.h>

#include <set>

#include "api/api_test_support.hpp"
#include "service/site_service.hpp"

namespace joule::api::test {
namespace {

using Json = nlohmann::json;

class AccessApiTest : public ApiHarness {
protected:
    void SetUp() override {
        for (const char* code : {"mall", "park"}) {
            SiteSpec site;
            site.project = {{}, code, code, "Asia/Shanghai"};
            ASSERT_TRUE(CreateSite(*store_, site, Actor{}, now_).has_value());
        }
        boss_id_ = NewUser("boss", "admin", {});
        boss_ = Login("boss");
    }

    // A user of `role` in `projects` (a group user when none); its id.
    int64_t NewUser(const std::string& name, const std::string& role,
                    const std::vector<std::string>& projects) {
        auto id = api_.CreateUser(name, kPassword, role, projects.empty(), projects);
        EXPECT_TRUE(id.has_value()) << id.error().ToString();
        return id.value_or(0);
    }

    HttpResponse PostRole(const Session& s, const std::string& code,
                          const std::vector<std::string>& permissions) {
        return As(s, "POST", "/api/v1/roles",
                  Json{{"code", code}, {"name", code}, {"permissions", permissions}}.dump());
    }

    // POST /users as `s`: a project user of `projects`.
    HttpResponse PostUser(const Session& s, const std::string& name, const std::string& role,
                          const std::vector<std::string>& projects) {
        return As(
            s, "POST", "/api/v1/users",
            Json{
                {"username", name}, {"password", kPassword}, {"role", role}, {"projects", projects}}
                .dump());
    }

    // A PATCH with If-Match: `etag` as the header says it ("\"1\"").
    HttpResponse Patch(const Session& s, const std::string& path, const Json& body,
                       const std::string& etag) {
        return As(s, "PATCH", path, body.dump(), {{"if-match", etag}});
    }

    // The ETag of what `path` answers now (a sign-in changes a user: it counts failures).
    std::string Tag(const std::string& path) { return HeaderOf(As(boss_, "GET", path), "ETag"); }

    // The operation log's newest entry of `action`.
    Json LastLogged(const std::string& action) {
        auto r = As(boss_, "GET", "/api/v1/operations?action=" + action);
        EXPECT_EQ(r.status, 200) << r.body;
        const Json page = Body(r);
        return page["items"].empty() ? Json() : page["items"][0];
    }

    int64_t boss_id_ = 0;
    Session boss_;
};

TEST_F(AccessApiTest, RolesListBuiltInAndCustomOnesWithVersions) {
    ASSERT_EQ(PostRole(boss_, "cashier", {"accounts.view", "money.topup"}).status, 201);
    NewUser("fin", "finance", {"mall"});
    const Session fin = Login("fin");
    // Every signed-in user reads the list; a role itself needs users.manage.
    auto listed = As(fin, "GET", "/api/v1/roles");
    ASSERT_EQ(listed.status, 200) << listed.body;
    const Json roles = Body(listed);
    EXPECT_EQ(roles["total"], 6);
    std::set<std::string> builtin;
    for (const Json& r : roles["items"]) {
        if (r["builtin"].get<bool>()) {
            builtin.insert(r["code"].get<std::string>());
            EXPECT_EQ(r["version"], 0);
        }
    }
    EXPECT_EQ(builtin,
              (std::set<std::string>{"admin", "commercial", "finance", "engineering", "tenant"}));
    const Json custom = Body(As(fin, "GET", "/api/v1/roles?builtin=false"));
    ASSERT_EQ(custom["total"], 1);
    EXPECT_EQ(custom["items"][0]["code"], "cashier");
    EXPECT_EQ(custom["items"][0]["version"], 1);
    EXPECT_EQ(custom["items"][0]["permissions"], Json({"accounts.view", "money.topup"}));
    EXPECT_EQ(As(fin, "GET", "/api/v1/roles/cashier").status, 403);

    auto one = As(boss_, "GET", "/api/v1/roles/cashier");
    ASSERT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(HeaderOf(one, "ETag"), "\"1\"");
    EXPECT_FALSE(Body(one)["builtin"].get<bool>());
    auto finance = As(boss_, "GET", "/api/v1/roles/finance");
    ASSERT_EQ(finance.status, 200);
    EXPECT_TRUE(Body(finance)["builtin"].get<bool>());
    EXPECT_EQ(HeaderOf(finance, "ETag"), "");  // a built-in role never changes
    auto missing = As(boss_, "GET", "/api/v1/roles/nobody");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(Body(missing)["field"], "role");
}

TEST_F(AccessApiTest, ARoleIsRefusedNamingTheFieldAndNothingIsCreated) {
    struct Case {
        Json body;
        int status;
        std::string field;
    };
    const Json perms = {"accounts.view"};
    const std::vector<Case> cases = {
        {{{"code", "Has Caps"}, {"name", "x"}, {"permissions", perms}}, 400, "code"},
        {{{"code", "a/b"}, {"name", "x"}, {"permissions", perms}}, 400, "code"},
        {{{"code", std::string(33, 'a')}, {"name", "x"}, {"permissions", perms}}, 400, "code"},
        {{{"code", ""}, {"name", "x"}, {"permissions", perms}}, 400, "code"},
        {{{"code", "finance"}, {"name", "x"}, {"permissions", perms}}, 409, "code"},
        {{{"code", "r1"}, {"name", ""}, {"permissions", perms}}, 400, "name"},
        {{{"code", "r1"}, {"name", std::string(65, 'n')}, {"permissions", perms}}, 400, "name"},
        {{{"code", "r1"}, {"name", "two\nlines"}, {"permissions", perms}}, 400, "name"},
        {{{"code", "r1"}, {"name", "x"}}, 400, "permissions"},
        {{{"code", "r1"}, {"name", "x"}, {"permissions", Json::array()}}, 400, "permissions"},
        {{{"code", "r1"}, {"name", "x"}, {"permissions", "accounts.view"}}, 400, "permissions"},
        {{{"code", "r1"}, {"name", "x"}, {"permissions", {"accounts.view", "bogus"}}},
         400,
         "permissions[1]"},
        {{{"code", "r1"}, {"name", "x"}, {"permissions", {1}}}, 400, "permissions[0]"},
        {{{"code", "r1"}, {"name", "x"}, {"permissions", {"tenant.self"}}}, 400, "permissions[0]"},
        {{{"code", "r1'; DROP TABLE roles; --"}, {"name", "x"}, {"permissions", perms}},
         400,
         "code"},
        {{{"code", "r1"}, {"name", "x"}, {"permissions", perms}, {"colour", "red"}}, 400, "colour"},
    };
    for (const Case& c : cases) {
        auto r = As(boss_, "POST", "/api/v1/roles", c.body.dump());
        EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
        EXPECT_EQ(Body(r)["field"], c.field) << c.body << " -> " << r.body;
    }
    EXPECT_EQ(Body(As(boss_, "GET", "/api/v1/roles?builtin=false"))["total"], 0);
    ASSERT_EQ(PostRole(boss_, "r1", {"accounts.view"}).status, 201);
    auto again = PostRole(boss_, "r1", {"alarms.view"});
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(Body(again)["field"], "code");
}

// A custom role is a role like the built-in ones: it decides what its users may do, within the
// projects they are given.
TEST_F(AccessApiTest, ACustomRoleGrantsAndDeniesRoutesEndToEnd) {
    ASSERT_EQ(PostRole(boss_, "viewer", {"projects.view", "accounts.view"}).status, 201);
    auto created = PostUser(boss_, "clerk", "viewer", {"mall"});
    ASSERT_EQ(created.status, 201) << created.body;
    const Session clerk = Login("clerk");
    const Json me = Body(As(clerk, "GET", "/api/v1/auth/me"));
    EXPECT_EQ(me["role"], "viewer");
    EXPECT_EQ(me["permissions"], Json({"projects.view", "accounts.view"}));
    EXPECT_EQ(As(clerk, "GET", "/api/v1/projects/mall/buildings").status, 200);
    EXPECT_EQ(As(clerk, "GET", "/api/v1/projects/mall/accounts").status, 200);
    EXPECT_EQ(As(clerk, "GET", "/api/v1/projects/park/buildings").status, 404);
    EXPECT_EQ(As(clerk, "GET", "/api/v1/projects/mall/tariffs").status, 403);
    EXPECT_EQ(As(clerk, "GET", "/api/v1/users").status, 403);
    auto build = As(clerk, "POST", "/api/v1/projects/mall/buildings", Json{{"code", "B9"}}.dump());
    EXPECT_EQ(build.status, 403) << build.body;
    // A user cannot be given a role that does not exist.
    auto unknown = PostUser(boss_, "ghost", "nobody", {"mall"});
    EXPECT_EQ(unknown.status, 400);
    EXPECT_EQ(Body(unknown)["field"], "role");
}

// A role's new permissions hold from the next request of every user who has it, signed in by
// cookie or through an API key: no cached principal outlives the change.
TEST_F(AccessApiTest, RoleEditsTakeEffectOnTheNextRequest) {
    ASSERT_EQ(PostRole(boss_, "keeper", {"users.manage", "projects.view"}).status, 201);
    NewUser("keeper1", "keeper", {"mall"});
    const Session keeper = Login("keeper1");
    auto key = As(keeper, "POST", "/api/v1/api-keys",
                  Json{{"name", "erp"}, {"scopes", {"projects.view"}}}.dump());
    ASSERT_EQ(key.status, 201) << key.body;
    const Headers bearer = {{"authorization", "Bearer " + Body(key)["key"].get<std::string>()}};
    const std::string buildings = "/api/v1/projects/mall/buildings";
    EXPECT_EQ(As(keeper, "GET", buildings).status, 200);
    EXPECT_EQ(Call("GET", buildings, "", bearer).status, 200);
    EXPECT_EQ(As(keeper, "GET", "/api/v1/projects/mall/tariffs").status, 403);

    auto widened =
        Patch(boss_, "/api/v1/roles/keeper",
              {{"permissions", {"users.manage", "projects.view", "tariffs.view"}}}, "\"1\"");
    ASSERT_EQ(widened.status, 200) << widened.body;
    EXPECT_EQ(As(keeper, "GET", "/api/v1/projects/mall/tariffs").status, 200);

    auto narrowed = Patch(boss_, "/api/v1/roles/keeper", {{"permissions", {"users.manage"}}},
                          HeaderOf(widened, "ETag"));
    ASSERT_EQ(narrowed.status, 200) << narrowed.body;
    EXPECT_EQ(As(keeper, "GET", buildings).status, 403);
    EXPECT_EQ(Call("GET", buildings, "", bearer).status, 403);  // a key never exceeds its user
    EXPECT_EQ(Body(As(keeper, "GET", "/api/v1/auth/me"))["permissions"], Json({"users.manage"}));
    // A rename alone changes no one's permissions.
    auto renamed = Patch(boss_, "/api/v1/roles/keeper", {{"name", "Key keeper"}}, "\"3\"");
    ASSERT_EQ(renamed.status, 200) << renamed.body;
    EXPECT_EQ(Body(renamed)["name"], "Key keeper");
    EXPECT_EQ(HeaderOf(renamed, "ETag"), "\"4\"");
}

TEST_F(AccessApiTest, RoleChangesNeedTheCurrentVersionAndBuiltInRolesNeverChange) {
    ASSERT_EQ(PostRole(boss_, "cashier", {"accounts.view"}).status, 201);
    const std::string path = "/api/v1/roles/cashier";
    const Json rename = {{"name", "Cashier"}};
    auto bare = As(boss_, "PATCH", path, rename.dump());
    EXPECT_EQ(bare.status, 400);
    EXPECT_EQ(Body(bare)["field"], "If-Match");
    auto stale = Patch(boss_, path, rename, "\"7\"");
    EXPECT_EQ(stale.status, 409);
    EXPECT_EQ(Body(stale)["field"], "If-Match");
    EXPECT_EQ(Body(As(boss_, "PATCH", path, Json{{"name", "C"}, {"version", 2}}.dump(),
                      {{"if-match", "\"1\""}}))["field"],
              "version");
    EXPECT_EQ(Body(Patch(boss_, path, Json{{"version", 1}}, "\"1\""))["field"], "body");
    EXPECT_EQ(Body(Patch(boss_, path, {{"name", "C"}, {"colour", "red"}}, "\"1\""))["field"],
              "colour");
    EXPECT_EQ(Body(Patch(boss_, path, {{"permissions", {"nope"}}}, "\"1\""))["field"],
              "permissions[0]");
    // "version" in the body serves clients that cannot set headers.
    auto renamed = As(boss_, "PATCH", path, Json{{"name", "Cashier"}, {"version", 1}}.dump());
    ASSERT_EQ(renamed.status, 200) << renamed.body;
    EXPECT_EQ(Body(renamed)["version"], 2);

    for (const char* builtin : {"finance", "admin"}) {
        const std::string at = std::string("/api/v1/roles/") + builtin;
        auto patched = Patch(boss_, at, rename, "\"1\"");
        EXPECT_EQ(patched.status, 409) << patched.body;
        EXPECT_EQ(Body(patched)["field"], "role");
        EXPECT_NE(Body(patched)["message"].get<std::string>().find("built-in"), std::string::npos);
        EXPECT_EQ(As(boss_, "DELETE", at, "", {{"if-match", "\"1\""}}).status, 409);
    }
    EXPECT_EQ(
        As(boss_, "PATCH", "/api/v1/roles/nobody", rename.dump(), {{"if-match", "\"1\""}}).status,
        404);

    // A role some user has is not deleted; once nobody has it, it is.
    const int64_t till = NewUser("till", "cashier", {"mall"});
    EXPECT_EQ(As(boss_, "DELETE", path).status, 400);  // If-Match is required
    EXPECT_EQ(As(boss_, "DELETE", path, "", {{"if-match", "\"1\""}}).status, 409);
    auto in_use = As(boss_, "DELETE", path, "", {{"if-match", "\"2\""}});
    EXPECT_EQ(in_use.status, 409);
    EXPECT_EQ(Body(in_use)["field"], "role");
    EXPECT_NE(Body(in_use)["message"].get<std::string>().find("'cashier' is given to 1 user"),
              std::string::npos)
        << in_use.body;
    const std::string user = "/api/v1/users/" + std::to_string(till);
    ASSERT_EQ(Patch(boss_, user, {{"role", "finance"}}, "\"1\"").status, 200);
    EXPECT_EQ(As(boss_, "DELETE", path, "", {{"if-match", "\"2\""}}).status, 204);
    EXPECT_EQ(As(boss_, "GET", path).status, 404);

    // Every change is in the operation log with what it was and what it became.
    EXPECT_EQ(LastLogged("role.create")["target"], "role:cashier");
    const Json update = LastLogged("role.update");
    EXPECT_EQ(update["detail"]["before"]["name"], "cashier");
    EXPECT_EQ(update["detail"]["after"]["name"], "Cashier");
    EXPECT_EQ(LastLogged("role.delete")["detail"]["before"]["permissions"],
              Json({"accounts.view"}));
}

// A user manager hands out only what it holds, changes only users and roles within its reach, and
// cannot change its own role's permissions.
TEST_F(AccessApiTest, NobodyGrantsMoreThanItHolds) {
    ASSERT_EQ(PostRole(boss_, "hr", {"users.manage", "projects.view"}).status, 201);
    NewUser("hr1", "hr", {"mall"});
    const int64_t fin = NewUser("fin", "finance", {"mall"});
    const Session hr = Login("hr1");
    auto beyond = PostRole(hr, "teller", {"projects.view", "money.topup"});
    EXPECT_EQ(beyond.status, 403) << beyond.body;
    EXPECT_EQ(Body(beyond)["field"], "permissions");
    EXPECT_NE(Body(beyond)["message"].get<std::string>().find("money.topup"), std::string::npos);
    ASSERT_EQ(PostRole(hr, "looker", {"projects.view"}).status, 201);
    // Nor a role holding more than the creator to a new user.
    auto user = PostUser(hr, "f2", "finance", {"mall"});
    EXPECT_EQ(user.status, 403);
    EXPECT_EQ(Body(user)["field"], "role");
    ASSERT_EQ(PostUser(hr, "l1", "looker", {"mall"}).status, 201);
    // Nor may it change (or reset) a user who holds more than it does.
    const std::string fin_path = "/api/v1/users/" + std::to_string(fin);
    auto edit = Patch(hr, fin_path, {{"display_name", "F"}}, "\"1\"");
    EXPECT_EQ(edit.status, 403);
    EXPECT_EQ(Body(edit)["field"], "user");
    EXPECT_EQ(
        As(hr, "POST", fin_path + "/password", Json{{"password", "Another12345"}}.dump()).status,
        403);
    // Its own role's permissions are another user manager's to change.
    auto own = Patch(hr, "/api/v1/roles/hr", {{"permissions", {"users.manage"}}}, "\"1\"");
    EXPECT_EQ(own.status, 409);
    EXPECT_EQ(Body(own)["field"], "permissions");
    // A role a foreign project's user has is beyond a project's user manager.
    NewUser("parker", "looker", {"park"});
    auto foreign = Patch(hr, "/api/v1/roles/looker", {{"permissions", {"projects.view"}}}, "\"1\"");
    EXPECT_EQ(foreign.status, 200) << foreign.body;  // unchanged permissions reach no one
    auto widen = Patch(hr, "/api/v1/roles/looker", {{"permissions", {"users.manage"}}}, "\"2\"");
    EXPECT_EQ(widen.status, 403) << widen.body;
    EXPECT_EQ(Body(widen)["field"], "role");
    EXPECT_EQ(
        Patch(boss_, "/api/v1/roles/looker", {{"permissions", {"users.manage"}}}, "\"2\"").status,
        200);
}

TEST_F(AccessApiTest, UsersAreReadAndEditedWithTheirVersion) {
    const int64_t id = NewUser("fin", "finance", {"mall"});
    const std::string path = "/api/v1/users/" + std::to_string(id);
    auto got = As(boss_, "GET", path);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(HeaderOf(got, "ETag"), "\"1\"");
    EXPECT_EQ(Body(got)["projects"], Json({"mall"}));
    EXPECT_EQ(As(boss_, "GET", "/api/v1/users/999").status, 404);
    EXPECT_EQ(As(boss_, "GET", "/api/v1/users/abc").status, 400);

    auto edited =
        Patch(boss_, path,
              {{"display_name", "财务 Li"}, {"role", "commercial"}, {"projects", {"park", "mall"}}},
              "\"1\"");
    ASSERT_EQ(edited.status, 200) << edited.body;
    EXPECT_EQ(HeaderOf(edited, "ETag"), "\"2\"");
    const Json user = Body(edited);
    EXPECT_EQ(user["display_name"], "财务 Li");
    EXPECT_EQ(user["role"], "commercial");
    EXPECT_EQ(user["projects"], Json({"mall", "park"}));
    EXPECT_EQ(Body(As(boss_, "GET", path))["role"], "commercial");

    struct Case {
        Json body;
        int status;
        std::string field;
    };
    const std::vector<Case> cases = {
        {{{"display_name", "x"}}, 409, "If-Match"},  // the ETag is "2" now
        {{{"role", "nobody"}, {"version", 2}}, 400, "role"},
        {{{"role", 3}, {"version", 2}}, 400, "role"},
        {{{"projects", {"nowhere"}}, {"version", 2}}, 404, "projects[0]"},
        {{{"disabled", "yes"}, {"version", 2}}, 400, "disabled"},
        {{{"display_name", std::string(129, 'x')}, {"version", 2}}, 400, "display_name"},
        {{{"password", "Another12345"}, {"version", 2}}, 400, "password"},
        {{{"version", 2}}, 400, "body"},
    };
    for (const Case& c : cases) {
        // "version" in the body instead of If-Match; without it a stale If-Match.
        auto r = c.body.contains("version") ? As(boss_, "PATCH", path, c.body.dump())
                                            : Patch(boss_, path, c.body, "\"1\"");
        EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
        EXPECT_EQ(Body(r)["field"], c.field) << c.body << " -> " << r.body;
    }
    EXPECT_EQ(Body(As(boss_, "GET", path))["version"], 2);  // nothing changed
    const Json logged = LastLogged("user.update");
    EXPECT_EQ(logged["target"], "user:fin");
    EXPECT_EQ(logged["detail"]["before"]["role"], "finance");
    EXPECT_EQ(logged["detail"]["after"]["role"], "commercial");
}

// A new role or projects, or disabling, end the user's sessions at once; a new display name
// does not.
TEST_F(AccessApiTest, DisablingOrMovingAUserEndsItsSessions) {
    const int64_t id = NewUser("eng", "engineering", {"mall"});
    const std::string path = "/api/v1/users/" + std::to_string(id);
    Session eng = Login("eng");
    ASSERT_EQ(Patch(boss_, path, {{"display_name", "Wang"}}, Tag(path)).status, 200);
    EXPECT_EQ(As(eng, "GET", "/api/v1/auth/me").status, 200);
    ASSERT_EQ(Patch(boss_, path, {{"projects", {"park"}}}, Tag(path)).status, 200);
    EXPECT_EQ(As(eng, "GET", "/api/v1/auth/me").status, 401);
    eng = Login("eng");
    EXPECT_EQ(As(eng, "GET", "/api/v1/projects/park/meters").status, 200);
    EXPECT_EQ(As(eng, "GET", "/api/v1/projects/mall/meters").status, 404);
    ASSERT_EQ(Patch(boss_, path, {{"disabled", true}}, Tag(path)).status, 200);
    EXPECT_EQ(As(eng, "GET", "/api/v1/auth/me").status, 401);
    auto refused = Call("POST", "/api/v1/auth/login",
                        Json{{"username", "eng"}, {"password", kPassword}}.dump());
    EXPECT_EQ(refused.status, 401);
    ASSERT_EQ(Patch(boss_, path, {{"disabled", false}}, Tag(path)).status, 200);
    Login("eng");
}

// Nobody disables or demotes itself, so the last user manager cannot lock everyone out; a project
// user manager neither makes group users nor reaches projects or users it does not see.
TEST_F(AccessApiTest, NobodyDisablesOrDemotesItselfOrReachesBeyondItsProjects) {
    const std::string self = "/api/v1/users/" + std::to_string(boss_id_);
    const std::string etag = Tag(self);
    for (const Json& body : {Json{{"disabled", true}}, Json{{"role", "finance"}},
                             Json{{"all_projects", false}}, Json{{"projects", {"mall"}}}}) {
        auto r = Patch(boss_, self, body, etag);
        EXPECT_EQ(r.status, 409) << body << " -> " << r.body;
        EXPECT_EQ(Body(r)["field"], body.begin().key()) << r.body;
    }
    auto renamed = Patch(boss_, self, {{"display_name", "Boss"}, {"role", "admin"}}, etag);
    EXPECT_EQ(renamed.status, 200) << renamed.body;  // the same role is no change

    NewUser("padmin", "admin", {"mall"});
    const int64_t fin = NewUser("fin", "finance", {"mall"});
    const int64_t parker = NewUser("parker", "finance", {"park"});
    const Session padmin = Login("padmin");
    const std::string fin_path = "/api/v1/users/" + std::to_string(fin);
    auto group = Patch(padmin, fin_path, {{"all_projects", true}}, "\"1\"");
    EXPECT_EQ(group.status, 403);
    EXPECT_EQ(Body(group)["field"], "all_projects");
    auto park = Patch(padmin, fin_path, {{"projects", {"mall", "park"}}}, "\"1\"");
    EXPECT_EQ(park.status, 404);
    EXPECT_EQ(Body(park)["field"], "projects[1]");
    EXPECT_EQ(As(padmin, "GET", "/api/v1/users/" + std::to_string(parker)).status, 404);
    EXPECT_EQ(
        Patch(padmin, "/api/v1/users/" + std::to_string(parker), {{"disabled", true}}, "\"1\"")
            .status,
        404);
    EXPECT_EQ(Patch(padmin, fin_path, {{"disabled", true}}, "\"1\"").status, 200);
}

}  // namespace
}  // namespace joule::api::test
