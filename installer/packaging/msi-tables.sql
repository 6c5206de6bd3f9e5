-- Applied by build.sh to the MSI that wixl builds from erpbridge.wxs, one
-- statement a line, with `msibuild erpbridge.msi -q STATEMENT` (msitools).
-- wixl 0.101 has no syntax for any of this; these are the standard Windows
-- Installer tables and columns WiX itself would write.

-- The config: Permanent (16) + NeverOverwrite (128) + 64-bit (256) = 400.
-- Installed only when %ProgramData%\erpbridge\erpbridge.toml is absent, kept by
-- upgrades and by uninstall.
UPDATE `Component` SET `Attributes` = 400 WHERE `Component` = 'Config'

-- The data, logs and secrets folders: Permanent (16) + 64-bit (256) = 272. Kept by
-- uninstall with what is in them (the data folder remembers which CRM record
-- each ERP record became), and with their permissions.
UPDATE `Component` SET `Attributes` = 272 WHERE `Component` = 'DataFolder'
UPDATE `Component` SET `Attributes` = 272 WHERE `Component` = 'LogsFolder'
UPDATE `Component` SET `Attributes` = 272 WHERE `Component` = 'SecretsFolder'

-- Start the service after an upgrade, or on a first install run with START_SERVICE=1.
UPDATE `Component` SET `Condition` = 'WIX_UPGRADE_DETECTED OR START_SERVICE="1"' WHERE `Component` = 'ServiceStart'
UPDATE `Property` SET `Value` = 'SERVICE_ACCOUNT;START_SERVICE;WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED' WHERE `Property` = 'SecureCustomProperties'

-- MajorUpgrade AllowSameVersionUpgrades="yes" (VersionMax inclusive, 512, plus
-- MigrateFeatures, 1): a rebuilt MSI of the same X.Y.Z replaces the installed one
-- instead of installing beside it (Windows Installer ignores a fourth field).
-- Attributes is part of the key, so the row is replaced; build.sh substitutes
-- @VERSION@ (the MSI ProductVersion).
DELETE FROM `Upgrade` WHERE `ActionProperty` = 'WIX_UPGRADE_DETECTED'
INSERT INTO `Upgrade` (`UpgradeCode`, `VersionMax`, `Attributes`, `ActionProperty`) VALUES ('{EA17F6FC-DEA6-4C89-A386-953954142DFF}', '@VERSION@', 513, 'WIX_UPGRADE_DETECTED')

-- Delayed auto-start (SERVICE_CONFIG_DELAYED_AUTO_START_INFO, 3) and recovery on
-- an exit with an error code too (SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, 4), at
-- install (Event 1). Windows Installer 5.0 (Windows 7 / Server 2008 R2 and later).
CREATE TABLE `MsiServiceConfig` (`MsiServiceConfig` CHAR(72) NOT NULL, `Name` CHAR(255) NOT NULL, `Event` SHORT NOT NULL, `ConfigType` LONG NOT NULL, `Argument` CHAR(0), `Component_` CHAR(72) NOT NULL PRIMARY KEY `MsiServiceConfig`)
INSERT INTO `MsiServiceConfig` (`MsiServiceConfig`, `Name`, `Event`, `ConfigType`, `Argument`, `Component_`) VALUES ('ErpbridgeDelayedStart', 'erpbridge', 1, 3, '1', 'Program')
INSERT INTO `MsiServiceConfig` (`MsiServiceConfig`, `Name`, `Event`, `ConfigType`, `Argument`, `Component_`) VALUES ('ErpbridgeFailureActionsFlag', 'erpbridge', 1, 4, '1', 'Program')
-- The service SID in the service's token whatever its account (SERVICE_CONFIG_SERVICE_SID_INFO,
-- 5; unrestricted, 1): the folder permissions below grant it.
INSERT INTO `MsiServiceConfig` (`MsiServiceConfig`, `Name`, `Event`, `ConfigType`, `Argument`, `Component_`) VALUES ('ErpbridgeSidType', 'erpbridge', 1, 5, '1', 'Program')

-- Recovery, as `erpbridge service install` sets it (installer.WindowsOnFailure*):
-- restart (1) after 60000 ms on every failure, the failure count reset after 86400 s.
CREATE TABLE `MsiServiceConfigFailureActions` (`MsiServiceConfigFailureActions` CHAR(72) NOT NULL, `Name` CHAR(255) NOT NULL, `Event` SHORT NOT NULL, `ResetPeriod` LONG, `RebootMessage` CHAR(255), `Command` CHAR(255), `Actions` CHAR(0), `DelayActions` CHAR(0), `Component_` CHAR(72) NOT NULL PRIMARY KEY `MsiServiceConfigFailureActions`)
INSERT INTO `MsiServiceConfigFailureActions` (`MsiServiceConfigFailureActions`, `Name`, `Event`, `ResetPeriod`, `Actions`, `DelayActions`, `Component_`) VALUES ('ErpbridgeRecovery', 'erpbridge', 1, 86400, '1', '60000', 'Program')

-- MsiConfigureServices applies both tables: after InstallServices (5800),
-- before StartServices (5900).
INSERT INTO `InstallExecuteSequence` (`Action`, `Condition`, `Sequence`) VALUES ('MsiConfigureServices', 'VersionNT>=600', 5850)

-- Permissions of %ProgramData%\erpbridge, as `erpbridge service install` sets them
-- (layout.WindowsDACL): protected from ProgramData's inheritance, SYSTEM and
-- Administrators full control, the service's SID (NT SERVICE\erpbridge) read on
-- the folder, the config and the secrets, modify on data and logs; Users nothing.
-- Applied by CreateFolders to the CreateFolder rows (Windows Installer 5.0).
CREATE TABLE `MsiLockPermissionsEx` (`MsiLockPermissionsEx` CHAR(72) NOT NULL, `LockObject` CHAR(72) NOT NULL, `Table` CHAR(32) NOT NULL, `SDDLText` CHAR(0) NOT NULL, `Condition` CHAR(255) PRIMARY KEY `MsiLockPermissionsEx`)
INSERT INTO `MsiLockPermissionsEx` (`MsiLockPermissionsEx`, `LockObject`, `Table`, `SDDLText`) VALUES ('LockConfigDir', 'CONFIGDIR', 'CreateFolder', 'D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;S-1-5-80-1480445000-655476436-973823162-3944181684-2646402285)')
INSERT INTO `MsiLockPermissionsEx` (`MsiLockPermissionsEx`, `LockObject`, `Table`, `SDDLText`) VALUES ('LockSecretsDir', 'SECRETSDIR', 'CreateFolder', 'D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;S-1-5-80-1480445000-655476436-973823162-3944181684-2646402285)')
INSERT INTO `MsiLockPermissionsEx` (`MsiLockPermissionsEx`, `LockObject`, `Table`, `SDDLText`) VALUES ('LockDataDir', 'DATADIR', 'CreateFolder', 'D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;S-1-5-80-1480445000-655476436-973823162-3944181684-2646402285)')
INSERT INTO `MsiLockPermissionsEx` (`MsiLockPermissionsEx`, `LockObject`, `Table`, `SDDLText`) VALUES ('LockLogsDir', 'LOGSDIR', 'CreateFolder', 'D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;S-1-5-80-1480445000-655476436-973823162-3944181684-2646402285)')
