-- The "hotel" sample workload: a booking system with primary keys, unique keys and the one
-- secondary index its first release shipped (the back office's "latest bookings" feed).
-- Runs on MariaDB 10.11 and MySQL 8.0.  See README.md for the query mix and what it is for.

CREATE TABLE hotels (
    id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
    name        VARCHAR(120) NOT NULL,
    city        VARCHAR(60)  NOT NULL,
    country     CHAR(2)      NOT NULL,
    stars       TINYINT UNSIGNED NOT NULL,
    opened_at   DATE         NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_hotels_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE rooms (
    id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
    hotel_id    INT UNSIGNED NOT NULL,
    room_no     SMALLINT UNSIGNED NOT NULL,
    kind        ENUM('single','double','suite','family') NOT NULL,
    capacity    TINYINT UNSIGNED NOT NULL,
    price_cents INT UNSIGNED NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_rooms_hotel_room (hotel_id, room_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE guests (
    id           INT UNSIGNED NOT NULL AUTO_INCREMENT,
    email        VARCHAR(190) NOT NULL,
    first_name   VARCHAR(60)  NOT NULL,
    last_name    VARCHAR(60)  NOT NULL,
    country      CHAR(2)      NOT NULL,
    loyalty_tier ENUM('basic','silver','gold') NOT NULL,
    created_at   DATETIME     NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_guests_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE bookings (
    id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
    room_id     INT UNSIGNED NOT NULL,
    guest_id    INT UNSIGNED NOT NULL,
    channel     ENUM('web','app','agent','legacy') NOT NULL,
    status      ENUM('confirmed','completed','cancelled','no_show') NOT NULL,
    booked_at   DATETIME     NOT NULL,
    check_in    DATE         NOT NULL,
    check_out   DATE         NOT NULL,
    total_cents INT UNSIGNED NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- secondary indexes (created after the data is loaded)
CREATE INDEX idx_bookings_booked_at ON bookings (booked_at);
