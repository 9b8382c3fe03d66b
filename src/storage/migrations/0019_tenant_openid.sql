-- The payer's WeChat openid learnt by the official account's OAuth (issue 6) [PAY-2]: a JSAPI
-- payment needs it. Kept with the tenant's session, which it is learnt in and ends with.
ALTER TABLE tenant_sessions ADD COLUMN wechat_openid TEXT NOT NULL DEFAULT '';
