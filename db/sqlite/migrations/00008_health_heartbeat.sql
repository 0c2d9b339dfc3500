-- +goose Up
-- One row the health check rewrites when no request has written for a
-- while, to learn whether writes still reach the disk (DB.Health).
CREATE TABLE health_heartbeat (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    beats INTEGER NOT NULL
);
INSERT INTO health_heartbeat (id, beats) VALUES (1, 0);

-- +goose Down
DROP TABLE health_heartbeat;
