CREATE TABLE `customer` (
  `id` bigint NOT NULL AUTO_INCREMENT,
  `c_no` varchar(32) COMMENT '身份证号码',
  `phone` varbinary(64) COMMENT '手机号（SM4 加密）',
  `vip` tinyint(1) NOT NULL DEFAULT 0,
  `card_type` varchar(8),
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
