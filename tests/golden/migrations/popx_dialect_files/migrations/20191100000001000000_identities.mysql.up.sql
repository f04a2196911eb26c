CREATE TABLE `identity_verifiable_addresses` (`id` CHAR(36) PRIMARY KEY, `value` VARCHAR(400) NOT NULL) ENGINE=InnoDB;
