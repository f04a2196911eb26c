CREATE TABLE member (id int, mobile varchar(11));
DELIMITER $$
CREATE TRIGGER member_bi BEFORE INSERT ON member FOR EACH ROW
BEGIN
  SET NEW.mobile = TRIM(NEW.mobile);
END$$
DELIMITER ;
GRANT SELECT ON member TO 'crm'@'%';
