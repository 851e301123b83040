-- Schema of the "shop" sample workload: a small e-commerce site.
--
-- Runs on MariaDB 10.11 and MySQL 8.0 (InnoDB, utf8mb4). It does not create or select a
-- database: `mariadb shop < schema.sql`, or `python -m sample_workloads.shop.workload load`.
--
-- Layout:
--   1. CREATE TABLE statements with PRIMARY KEYs only.
--   2. The secondary indexes, as separate CREATE [UNIQUE] INDEX statements, so the loader can
--      add them after the bulk load (faster) or leave them out (`secondary_indexes=False`,
--      `load --no-secondary-indexes`) for index-advisor benchmarks.
--
-- No FOREIGN KEY constraints, as in many ORM-managed schemas: InnoDB would otherwise create an
-- index on every referencing column on its own and hide the missing ones below.
--
-- DELIBERATE WEAKNESSES (the workload exercises every one of them; see README.md):
--   W1 orders(customer_id, created_at) is missing: "my orders" pages scan all orders and
--      filesort (ORDER BY created_at DESC LIMIT 10).
--   W2 reviews(product_id) is missing: product pages and rating aggregates scan all reviews.
--   W3 products.sku is neither UNIQUE nor indexed: lookups by SKU scan the products table.
--   W4 orders.status has 5 values and only a single-column index (low selectivity); the
--      admin/worker queries filter on status AND a created_at range and need (status, created_at).
--   W5 reports filter on DATE(orders.created_at) = '...': the index on created_at cannot be used
--      (non-sargable); a range predicate would use it.
--   W6 orders.external_ref and customers.phone are VARCHAR columns with an index, but the
--      application compares them with numbers (implicit conversion, the index is not usable).
--   W7 events has no index on (session_token) and carts none on (status, updated_at): the
--      session timeline and the abandoned-cart job scan.
--   W8 idx_customers_country and idx_customers_country_status overlap (redundant prefix).

CREATE TABLE customers (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
  email           VARCHAR(190) NOT NULL,
  password_hash   CHAR(60) NOT NULL,
  first_name      VARCHAR(64) NOT NULL,
  last_name       VARCHAR(64) NOT NULL,
  phone           VARCHAR(20) NULL,
  country         CHAR(2) NOT NULL,
  status          VARCHAR(16) NOT NULL DEFAULT 'active',
  marketing_opt_in TINYINT(1) NOT NULL DEFAULT 0,
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL,
  last_login_at   DATETIME NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE addresses (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
  customer_id     INT UNSIGNED NOT NULL,
  kind            VARCHAR(16) NOT NULL,            -- shipping | billing
  full_name       VARCHAR(128) NOT NULL,
  line1           VARCHAR(190) NOT NULL,
  line2           VARCHAR(190) NULL,
  city            VARCHAR(96) NOT NULL,
  postal_code     VARCHAR(16) NOT NULL,
  country         CHAR(2) NOT NULL,
  is_default      TINYINT(1) NOT NULL DEFAULT 0,
  created_at      DATETIME NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE categories (
  id              SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  parent_id       SMALLINT UNSIGNED NULL,
  name            VARCHAR(96) NOT NULL,
  slug            VARCHAR(128) NOT NULL,
  position        SMALLINT NOT NULL DEFAULT 0,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE products (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
  sku             VARCHAR(32) NOT NULL,            -- W3: should be UNIQUE, has no index at all
  name            VARCHAR(200) NOT NULL,
  brand           VARCHAR(64) NOT NULL,
  description     TEXT NOT NULL,
  price_cents     INT UNSIGNED NOT NULL,
  currency        CHAR(3) NOT NULL DEFAULT 'EUR',
  is_active       TINYINT(1) NOT NULL DEFAULT 1,
  rating_avg      DECIMAL(3,2) NULL,
  review_count    INT UNSIGNED NOT NULL DEFAULT 0,
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE product_categories (
  product_id      INT UNSIGNED NOT NULL,
  category_id     SMALLINT UNSIGNED NOT NULL,
  PRIMARY KEY (product_id, category_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE warehouses (
  id              TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
  code            VARCHAR(8) NOT NULL,
  city            VARCHAR(96) NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE inventory (
  product_id      INT UNSIGNED NOT NULL,
  warehouse_id    TINYINT UNSIGNED NOT NULL,
  quantity        INT NOT NULL DEFAULT 0,
  reserved        INT NOT NULL DEFAULT 0,
  updated_at      DATETIME NOT NULL,
  PRIMARY KEY (product_id, warehouse_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE orders (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
  customer_id     INT UNSIGNED NOT NULL,           -- W1: no index (customer_id, created_at)
  status          VARCHAR(16) NOT NULL,            -- W4: pending|paid|shipped|delivered|cancelled
  currency        CHAR(3) NOT NULL DEFAULT 'EUR',
  subtotal_cents  INT UNSIGNED NOT NULL,
  shipping_cents  INT UNSIGNED NOT NULL DEFAULT 0,
  total_cents     INT UNSIGNED NOT NULL,
  coupon_code     VARCHAR(32) NULL,
  shipping_address_id INT UNSIGNED NULL,
  external_ref    VARCHAR(32) NULL,                -- W6: marketplace order number, digits only
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE order_items (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_id        INT UNSIGNED NOT NULL,
  product_id      INT UNSIGNED NOT NULL,
  quantity        SMALLINT UNSIGNED NOT NULL,
  unit_price_cents INT UNSIGNED NOT NULL,
  discount_cents  INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payments (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_id        INT UNSIGNED NOT NULL,
  provider        VARCHAR(16) NOT NULL,            -- card | paypal | klarna | giftcard
  provider_ref    VARCHAR(64) NOT NULL,
  status          VARCHAR(16) NOT NULL,            -- authorized | captured | refunded | failed
  amount_cents    INT UNSIGNED NOT NULL,
  created_at      DATETIME NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE reviews (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
  product_id      INT UNSIGNED NOT NULL,           -- W2: no index
  customer_id     INT UNSIGNED NOT NULL,
  rating          TINYINT UNSIGNED NOT NULL,
  title           VARCHAR(120) NOT NULL,
  body            TEXT NOT NULL,
  is_approved     TINYINT(1) NOT NULL DEFAULT 1,
  created_at      DATETIME NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE carts (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
  session_token   CHAR(32) NOT NULL,
  customer_id     INT UNSIGNED NULL,
  status          VARCHAR(16) NOT NULL DEFAULT 'active', -- active | ordered | abandoned
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE cart_items (
  cart_id         INT UNSIGNED NOT NULL,
  product_id      INT UNSIGNED NOT NULL,
  quantity        SMALLINT UNSIGNED NOT NULL,
  added_at        DATETIME NOT NULL,
  PRIMARY KEY (cart_id, product_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE events (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  session_token   CHAR(32) NOT NULL,               -- W7: no index
  customer_id     INT UNSIGNED NULL,
  event_type      VARCHAR(32) NOT NULL,            -- page_view | search | add_to_cart | checkout
  path            VARCHAR(255) NOT NULL,
  product_id      INT UNSIGNED NULL,
  created_at      DATETIME NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ---------------------------------------------------------------------------------------------
-- Secondary indexes (what a sensible team would have; the W* gaps above are deliberate).
-- ---------------------------------------------------------------------------------------------

CREATE UNIQUE INDEX uq_customers_email ON customers (email);
CREATE INDEX idx_customers_phone ON customers (phone);
CREATE INDEX idx_customers_country ON customers (country);                      -- W8 redundant
CREATE INDEX idx_customers_country_status ON customers (country, status);
CREATE INDEX idx_customers_created_at ON customers (created_at);

CREATE INDEX idx_addresses_customer ON addresses (customer_id);

CREATE UNIQUE INDEX uq_categories_slug ON categories (slug);
CREATE INDEX idx_categories_parent ON categories (parent_id, position);

CREATE INDEX idx_products_name ON products (name);
CREATE INDEX idx_products_brand ON products (brand);
CREATE INDEX idx_products_created_at ON products (created_at);

CREATE INDEX idx_product_categories_category ON product_categories (category_id);

CREATE INDEX idx_orders_status ON orders (status);                              -- W4 low selectivity
CREATE INDEX idx_orders_created_at ON orders (created_at);
CREATE INDEX idx_orders_external_ref ON orders (external_ref);                  -- W6 defeated by numbers

CREATE INDEX idx_order_items_order ON order_items (order_id);
CREATE INDEX idx_order_items_product ON order_items (product_id);

CREATE INDEX idx_payments_order ON payments (order_id);
CREATE INDEX idx_payments_provider_ref ON payments (provider_ref);

CREATE INDEX idx_reviews_customer ON reviews (customer_id);

CREATE INDEX idx_carts_session ON carts (session_token);
CREATE INDEX idx_carts_customer ON carts (customer_id);

CREATE INDEX idx_events_created_at ON events (created_at);
