-- Site editing (issue 4): buildings, floors, rooms, gateways and meters are created, edited and
-- deleted through the API with optimistic concurrency, as accounts are: every row has a version,
-- 1 when inserted and bumped by every update; an edit names the version it was read at (If-Match)
-- and is refused when the row has moved on. The registry stamp acquisition polls sums the meters'
-- and gateways' versions, so an edited address or gateway is picked up like an added meter.
ALTER TABLE buildings ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE floors ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE rooms ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE gateways ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE meters ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- A delete first asks what still refers to the row (a floor's rooms, a room's meters, a meter's
-- sub-meters); these lookups had no index (floors by building: UNIQUE (building_id, code) serves).
CREATE INDEX rooms_floor ON rooms(floor_id);
CREATE INDEX meters_room ON meters(room_id);
CREATE INDEX meters_parent ON meters(parent_id);
